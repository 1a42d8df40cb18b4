/**
 * `npm run bench:read-crc -- FILE [--runs 5]`: reading a file and hashing it with CRC32
 * (`zlib.crc32`, what snapstream uses), three ways, each in a fresh process, alternating, medians
 * of CPU time (user + system, every thread) and wall time of the read alone (Node's start
 * excluded):
 * - `stream`: `fs.createReadStream` with 1 MiB reads, a fresh buffer per read (what a pipeline
 *   of the public stages gets);
 * - `reuse`: `fs.read` (libuv's pool) into one reused 256 KiB buffer (the CLI's `verify FILE`);
 * - `reuse-sync`: `fs.readSync` on the main thread into one reused 256 KiB buffer.
 * docs/BENCHMARKS.md, "Data that does not compress", quotes it: hashing bytes still in the
 * cache costs a third of hashing bytes read back from memory.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const crc32 = (zlib as unknown as { crc32: (d: Uint8Array, v?: number) => number }).crc32;
const READ = 256 * 1024;
const MODES = ['stream', 'reuse', 'reuse-sync'] as const;
type Mode = (typeof MODES)[number];

async function child(mode: Mode, file: string): Promise<void> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let crc = 0;
  if (mode === 'stream') {
    for await (const c of fs.createReadStream(file, { highWaterMark: 1 << 20 })) crc = crc32(c as Buffer, crc);
  } else {
    const fd = fs.openSync(file, 'r');
    const buf = Buffer.allocUnsafeSlow(READ);
    let pos = 0;
    for (;;) {
      const n =
        mode === 'reuse-sync'
          ? fs.readSync(fd, buf, 0, READ, pos)
          : await new Promise<number>((resolve, reject) => fs.read(fd, buf, 0, READ, pos, (err, n) => (err ? reject(err) : resolve(n))));
      if (n === 0) break;
      pos += n;
      crc = crc32(buf.subarray(0, n), crc);
    }
    fs.closeSync(fd);
  }
  const c = process.cpuUsage(c0);
  process.stdout.write(`${JSON.stringify({ cpu: (c.user + c.system) / 1000, wall: performance.now() - t0, crc })}\n`);
}

function main(): void {
  const args = process.argv.slice(2);
  const file = args[0];
  if (!file) throw new Error('usage: read-crc.js FILE [--runs N]');
  const runs = args[1] === '--runs' ? Number(args[2]) : 5;
  const results = new Map<Mode, { cpu: number; wall: number; crc: number }[]>(MODES.map((m) => [m, []]));
  for (let r = 0; r < runs; r++) {
    for (const mode of r % 2 === 0 ? MODES : [...MODES].reverse()) {
      const out = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', mode, file], { encoding: 'utf8' });
      if (out.status !== 0) throw new Error(out.stderr);
      results.get(mode)!.push(JSON.parse(out.stdout) as { cpu: number; wall: number; crc: number });
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const size = fs.statSync(file).size;
  console.log(`${file}: ${(size / 1024 ** 2).toFixed(0)} MiB, medians of ${runs} alternating runs, load average ${os.loadavg()[0]!.toFixed(1)}`);
  console.log('| read | CPU ms | wall ms | CRC |\n|---|---|---|---|');
  for (const [mode, xs] of results) {
    console.log(`| ${mode} | ${median(xs.map((x) => x.cpu)).toFixed(0)} | ${median(xs.map((x) => x.wall)).toFixed(0)} | ${xs[0]!.crc.toString(16)} |`);
  }
}

if (process.argv[2] === '--child') {
  child(process.argv[3] as Mode, process.argv[4]!).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main();
}
