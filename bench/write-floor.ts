/**
 * What writing a received file costs on this machine, apart from any protocol (docs/BENCHMARKS.md,
 * "Delta transfer", 2026-12-07 session 8): the work a delta receiver must do for every byte it
 * takes from its base — read it, check its CRC32, write it to a new file, make it durable — done
 * three ways, alternating, each after `--idle` seconds of rest:
 *
 * - `kernel copy`: the file copied in the kernel (fs.copyFile) and fsync'd: the disk's floor as
 *   bench:delta prints it;
 * - `buffered`: read in 4 MiB runs on libuv's pool, CRC32 on the main thread, written through
 *   the page cache, fsync'd every 64 MiB beside the writes (what the receiver does), one write
 *   call per run (4 MiB), or one per 512 KiB of it;
 * - `direct`: the same reads and CRC32, the bytes copied into memory aligned for O_DIRECT and
 *   written around the page cache (two writes in flight), one fsync at the end.
 *
 * Wall seconds and the process's CPU seconds (user, and kernel: system) of each. On this VM the
 * kernel's cost of filling fresh page-cache pages moves by 5x with how long the memory lay free
 * (the hypervisor takes back memory the guest frees; touching it again faults it in): `--idle 6`
 * shows it.
 *
 * `--pieces 4096,2048,1024,512` instead writes synchronously (main thread) in calls of those
 * sizes (KiB), to show what the size of a write call costs the kernel.
 *
 * `--sink` instead writes the file through snapstream's ResumableFileSink (read in 4 MiB
 * chunks, CRC32, the sink's checkpoints every 64 MiB, fsync, rename) with and without `direct`
 * (session 9: O_DIRECT from the sink's own staging), each followed by a read of the installed
 * file (the verify a writeSnapshot or compressFile caller might run next), timed apart: a direct
 * write leaves the page cache cold, so that read comes from the disk.
 *
 *   npm run bench:write-floor -- [--file PATH | --size 1g] [--runs 3] [--idle 0] [--pieces K,K | --sink] [--dir DIR]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import zlib from 'node:zlib';
import { ResumableFileSink } from 'snapstream';
import { option, parseSize } from './bench-args.js';
import { randomBytes } from './datasets.js';

const args = process.argv.slice(2);
const dir = option(args, '--dir', path.join(os.tmpdir(), 'snapstream-write-floor'));
const runs = Number(option(args, '--runs', '3'));
const idle = Number(option(args, '--idle', '0'));
fs.mkdirSync(dir, { recursive: true });
const RUN = 4 * 1024 * 1024;
const SYNC_EVERY = 64 * 1024 * 1024;

/** The source file: `--file`, or `--size` bytes of random data written once into `dir`. */
function source(): string {
  const given = option(args, '--file', '');
  if (given) return given;
  const size = parseSize(option(args, '--size', '1g'));
  const file = path.join(dir, `source-${size}`);
  if (fs.existsSync(file)) return file;
  const piece = randomBytes(RUN);
  const fd = fs.openSync(`${file}.tmp`, 'w');
  for (let at = 0; at < size; at += RUN) fs.writeSync(fd, piece, 0, Math.min(RUN, size - at));
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(`${file}.tmp`, file);
  return file;
}

function kernelCopy(src: string, dst: string): Promise<void> {
  fs.copyFileSync(src, dst);
  const fd = fs.openSync(dst, 'r');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  return Promise.resolve();
}

async function buffered(src: string, dst: string, piece = RUN): Promise<void> {
  const input = await fsp.open(src, 'r');
  const out = await fsp.open(dst, 'w');
  const size = (await input.stat()).size;
  const bufs = [Buffer.allocUnsafeSlow(RUN), Buffer.allocUnsafeSlow(RUN)];
  let syncing: Promise<void> | null = null;
  let since = 0;
  let crc = 0;
  let next = input.read(bufs[0]!, 0, RUN, 0);
  for (let pos = 0, i = 0; pos < size; pos += RUN, i++) {
    const { bytesRead } = await next;
    const b = bufs[i & 1]!;
    if (pos + RUN < size) next = input.read(bufs[(i + 1) & 1]!, 0, RUN, pos + RUN);
    crc = zlib.crc32(b.subarray(0, bytesRead), crc);
    for (let at = 0; at < bytesRead; at += piece) await out.write(b, at, Math.min(piece, bytesRead - at), pos + at);
    since += bytesRead;
    if (since >= SYNC_EVERY) {
      await syncing;
      since = 0;
      syncing = out.sync();
    }
  }
  await syncing;
  await out.sync();
  await out.close();
  await input.close();
}

/** A RUN-byte view of fresh memory aligned for O_DIRECT, found by trial: a direct read succeeds only into aligned memory. */
function alignedBuffer(probe: number): Buffer {
  const raw = Buffer.allocUnsafeSlow(RUN + 8192);
  for (let k = 0; k < 8192; k += 16) {
    try {
      fs.readSync(probe, raw, k, 4096, 0);
      return raw.subarray(k, k + RUN);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
    }
  }
  throw new Error('no view of the buffer is aligned for O_DIRECT');
}

async function direct(src: string, dst: string): Promise<void> {
  const probe = fs.openSync(src, fs.constants.O_RDONLY | fs.constants.O_DIRECT);
  const stages = [alignedBuffer(probe), alignedBuffer(probe), alignedBuffer(probe)];
  fs.closeSync(probe);
  const input = await fsp.open(src, 'r');
  const out = await fsp.open(dst, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_DIRECT);
  const size = (await input.stat()).size;
  const bufs = [Buffer.allocUnsafeSlow(RUN), Buffer.allocUnsafeSlow(RUN)];
  const writes: Promise<unknown>[] = [];
  let crc = 0;
  let tail: { bytes: Buffer; pos: number } | null = null;
  let next = input.read(bufs[0]!, 0, RUN, 0);
  for (let pos = 0, i = 0; pos < size; pos += RUN, i++) {
    const { bytesRead } = await next;
    const b = bufs[i & 1]!;
    crc = zlib.crc32(b.subarray(0, bytesRead), crc);
    if (writes.length >= 2) await writes.shift();
    const stage = stages[i % 3]!;
    b.copy(stage, 0, 0, bytesRead);
    if (pos + RUN < size) next = input.read(bufs[(i + 1) & 1]!, 0, RUN, pos + RUN);
    // Direct writes take whole sectors: the last, short piece goes through the page cache.
    if (bytesRead === RUN) writes.push(out.write(stage, 0, RUN, pos));
    else tail = { bytes: Buffer.from(stage.subarray(0, bytesRead)), pos };
  }
  await Promise.all(writes);
  await out.close();
  const last = await fsp.open(dst, 'r+');
  if (tail) await last.write(tail.bytes, 0, tail.bytes.length, tail.pos);
  await last.sync();
  await last.close();
  await input.close();
}

/** The same as `buffered`, every call synchronous on the main thread, in write calls of `piece` bytes. */
function synchronous(src: string, dst: string, piece: number): Promise<void> {
  const input = fs.openSync(src, 'r');
  const out = fs.openSync(dst, 'w');
  const size = fs.fstatSync(input).size;
  const b = Buffer.allocUnsafeSlow(RUN);
  let since = 0;
  let crc = 0;
  for (let pos = 0; pos < size; pos += RUN) {
    const n = fs.readSync(input, b, 0, RUN, pos);
    crc = zlib.crc32(b.subarray(0, n), crc);
    for (let at = 0; at < n; at += piece) fs.writeSync(out, b, at, Math.min(piece, n - at), pos + at);
    since += n;
    if (since >= SYNC_EVERY) {
      fs.fsyncSync(out);
      since = 0;
    }
  }
  fs.fsyncSync(out);
  fs.closeSync(out);
  fs.closeSync(input);
  return Promise.resolve();
}

/** The file through a ResumableFileSink (`direct` or not), as writeSnapshot's last stage writes. */
async function sink(src: string, dst: string, direct: boolean): Promise<void> {
  const input = await fsp.open(src, 'r');
  const size = (await input.stat()).size;
  const out = new ResumableFileSink({ path: dst, direct });
  await new Promise((resolve, reject) => {
    out.once('ready', resolve);
    out.once('error', reject);
  });
  const bufs = [Buffer.allocUnsafeSlow(RUN), Buffer.allocUnsafeSlow(RUN), Buffer.allocUnsafeSlow(RUN)];
  let crc = 0;
  for (let pos = 0, i = 0; pos < size; pos += RUN, i++) {
    const b = bufs[i % 3]!;
    const { bytesRead } = await input.read(b, 0, RUN, pos);
    crc = zlib.crc32(b.subarray(0, bytesRead), crc);
    // Without direct a write's callback means written, so a buffer is free once it comes; with
    // direct, once taken (copied): either way three buffers are enough.
    if (!out.write(b.subarray(0, bytesRead))) await new Promise((resolve) => out.once('drain', resolve));
  }
  await new Promise<void>((resolve, reject) => {
    out.once('error', reject);
    out.end(() => resolve());
  });
  await input.close();
}

/** Reads `file` back whole (4 MiB reads, CRC32): the verify after a write. */
async function readBack(file: string): Promise<number> {
  const input = await fsp.open(file, 'r');
  const b = Buffer.allocUnsafeSlow(RUN);
  let crc = 0;
  for (let pos = 0; ; ) {
    const { bytesRead } = await input.read(b, 0, RUN, pos);
    if (bytesRead === 0) break;
    crc = zlib.crc32(b.subarray(0, bytesRead), crc);
    pos += bytesRead;
  }
  await input.close();
  return crc;
}

const src = source();
const size = fs.statSync(src).size;
const dst = path.join(dir, 'copy');
let readStart = 0;
let readCpu = process.cpuUsage();
// `--pieces 4096,512` (KiB): instead of the four ways, synchronous writes in calls of these sizes.
const pieces = option(args, '--pieces', '');
const sinkWays = args.includes('--sink');
const ways: [string, (s: string, d: string) => Promise<void>][] = pieces
  ? pieces.split(',').map((k) => [`synchronous, ${k} KiB writes`, (s: string, d: string) => synchronous(s, d, Number(k) * 1024)])
  : sinkWays
  ? [
      ['ResumableFileSink, page cache', (s, d) => sink(s, d, false)],
      ['ResumableFileSink, direct', (s, d) => sink(s, d, true)],
      // The read right after each: from the page cache after a buffered write, from the disk after a direct one.
      ['read back after the page-cache sink', async (s, d) => {
        await sink(s, d, false);
        readStart = performance.now();
        readCpu = process.cpuUsage();
        await readBack(d);
      }],
      ['read back after the direct sink', async (s, d) => {
        await sink(s, d, true);
        readStart = performance.now();
        readCpu = process.cpuUsage();
        await readBack(d);
      }],
    ]
  : [
      ['kernel copy', kernelCopy],
      ['buffered, 4 MiB writes', buffered],
      ['buffered, 512 KiB writes', (s, d) => buffered(s, d, 512 * 1024)],
      ['direct', direct],
    ];
const got = new Map<string, { seconds: number; user: number; system: number }[]>(ways.map(([w]) => [w, []]));
for (let r = 0; r < runs; r++) {
  for (const [name, fn] of r % 2 === 0 ? ways : [...ways].reverse()) {
    fs.rmSync(dst, { force: true });
    execFileSync('sync');
    if (idle > 0) await sleep(idle * 1000);
    readStart = 0;
    const cpu = process.cpuUsage();
    const start = performance.now();
    await fn(src, dst);
    // A read-back way counts the read only (it starts once its write is done).
    const seconds = (performance.now() - (readStart || start)) / 1000;
    const used = process.cpuUsage(readStart ? readCpu : cpu);
    if (fs.statSync(dst).size !== size) throw new Error(`${name}: the copy has the wrong size`);
    got.get(name)!.push({ seconds, user: used.user / 1e6, system: used.system / 1e6 });
    process.stderr.write(`${name}: ${seconds.toFixed(2)} s, CPU ${(used.user / 1e6).toFixed(2)} user + ${(used.system / 1e6).toFixed(2)} kernel\n`);
  }
}
fs.rmSync(dst, { force: true });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
process.stdout.write(
  [
    `${(size / 1e6).toFixed(0)} MB read, checked and written durably, ${runs} alternating runs after ${idle} s of rest each, medians; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} at the end:`,
    '',
    '| way | wall | CPU user | CPU kernel | runs (wall / kernel) |',
    '|---|---|---|---|---|',
    ...ways.map(([name]) => {
      const xs = got.get(name)!;
      return `| ${name} | ${median(xs.map((x) => x.seconds)).toFixed(2)} s | ${median(xs.map((x) => x.user)).toFixed(2)} s | ${median(xs.map((x) => x.system)).toFixed(2)} s | ${xs.map((x) => `${x.seconds.toFixed(2)}/${x.system.toFixed(2)}`).join(', ')} |`;
    }),
  ].join('\n') + '\n',
);
