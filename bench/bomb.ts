/**
 * Hostile and extreme snapshot files, read by every reader in a child process of its own, with
 * that child's peak RSS (VmHWM) and longest event-loop pause (monitorEventLoopDelay):
 *
 * - `bomb.snap`: 8 KB whose every CRC is valid, one block claiming 29.8 M empty records
 *   (256 MiB of zeros in one zstd frame) in a file whose block size is 1 MiB. A writer never
 *   makes it: refused with SNAP_ERR_LIMIT before anything is decompressed.
 * - `tiny64.snap`: what a writer does make: one 64 MiB block of 6 M tiny entries.
 * - `empty64x3.snap`: the most a writer puts in a block, three times: 64 MiB blocks of 7.46 M
 *   empty records each.
 * - `small.snap`: 100,000 ordinary entries, for the start-up pause of each reader.
 *
 * Readers: readSnapshot (entries, and batch mode), verifySnapshot, and `snapstream unpack`.
 *
 *   npm run fault:bomb [-- --dir DIR --timeout SECONDS]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Compressor, crc32, readSnapshot, verifySnapshot, writeSnapshot, type Entry } from 'snapstream';

const here = path.dirname(fileURLToPath(import.meta.url));
const probe = path.join(here, 'loop-probe.js');
const cli = path.resolve(here, '../../dist/cli/main.js');
const MiB = 1024 * 1024;
const EMPTY_RECORD = 9;
const READERS = ['readSnapshot', 'readSnapshot-batch', 'verifySnapshot', 'unpack'] as const;
type Reader = (typeof READERS)[number];

/** One metadata frame (docs/FORMAT.md 3.3): skippable header, tag, body, CRC32 of tag + body. */
function metaFrame(tag: string, body: Buffer): Buffer {
  const payload = Buffer.concat([Buffer.from(tag, 'latin1'), body]);
  const frame = Buffer.alloc(8 + payload.length + 4);
  frame.writeUInt32LE(0x184d2a5a, 0);
  frame.writeUInt32LE(payload.length + 4, 4);
  payload.copy(frame, 8);
  frame.writeUInt32LE(crc32(payload), 8 + payload.length);
  return frame;
}

const u64 = (b: Buffer, n: number, at: number): void => void b.writeBigUInt64LE(BigInt(n), at);

/**
 * A snapshot file written by hand from docs/FORMAT.md, with one block, whatever its header
 * claims: `frame` is a zstd frame of `rawLength` bytes holding `entries` records.
 */
export function handMadeSnapshot(blockSize: number, frame: Buffer, rawLength: number, entries: number): Buffer {
  const meta = Buffer.from('{}');
  const h = Buffer.alloc(20 + meta.length);
  h.writeUInt16LE(1, 0); // format version
  h[2] = 1; // zstd
  h[3] = 0;
  h.writeUInt32LE(blockSize, 4);
  u64(h, 1_700_000_000_000, 8);
  h.writeUInt32LE(meta.length, 16);
  meta.copy(h, 20);
  const header = metaFrame('SNAP', h);
  const cursor = Buffer.from(String(entries));
  const b = Buffer.alloc(56 + cursor.length);
  b.writeUInt32LE(0, 0); // seq
  b.writeUInt32LE(frame.length, 4);
  b.writeUInt32LE(rawLength, 8);
  b.writeUInt32LE(crc32(frame), 12);
  u64(b, header.length, 16); // offset
  b.writeUInt32LE(crc32(header), 24); // prefixCrc
  u64(b, entries, 28);
  u64(b, entries, 36);
  u64(b, rawLength, 44);
  b.writeUInt32LE(cursor.length, 52);
  cursor.copy(b, 56);
  const blockHeader = metaFrame('SBLK', b);
  const body = Buffer.concat([header, blockHeader, frame]);
  const f = Buffer.alloc(32);
  f.writeUInt32LE(1, 0);
  u64(f, entries, 4);
  u64(f, rawLength, 12);
  u64(f, body.length, 20);
  f.writeUInt32LE(crc32(body), 28);
  return Buffer.concat([body, metaFrame('SEND', f)]);
}

/** A zstd frame of `data`, made by snapstream's Compressor. */
async function zstdFrame(data: Buffer): Promise<Buffer> {
  let frame: Buffer | null = null;
  await pipeline(
    Readable.from([{ data, entries: 1, cursor: 1 }]),
    new Compressor({ blocks: true, codec: 'zstd' }),
    new Writable({ objectMode: true, write: (b: { frame: Buffer }, _e, cb) => ((frame = Buffer.from(b.frame)), cb()) }),
  );
  return frame!;
}

function* repeat(entry: Entry, n: number): Generator<Entry> {
  for (let i = 0; i < n; i++) yield entry;
}

function* tinyEntries(n: number): Generator<Entry> {
  const value = Buffer.alloc(0);
  for (let i = 0; i < n; i++) yield { key: Buffer.from([i & 0xff, (i >>> 8) & 0xff]), value };
}

async function makeFiles(dir: string): Promise<Record<string, string>> {
  const files = {
    small: path.join(dir, 'small.snap'),
    bomb: path.join(dir, 'bomb.snap'),
    tiny64: path.join(dir, 'tiny64.snap'),
    empty64x3: path.join(dir, 'empty64x3.snap'),
  };
  const bombEntries = Math.floor((256 * MiB) / EMPTY_RECORD);
  const zeros = Buffer.alloc(bombEntries * EMPTY_RECORD);
  fs.writeFileSync(files.bomb, handMadeSnapshot(MiB, await zstdFrame(zeros), zeros.length, bombEntries));
  await writeSnapshot(
    Array.from({ length: 100_000 }, (_, i) => ({ key: `key-${i}`, value: 'v'.repeat(100) })),
    files.small,
  );
  await writeSnapshot(tinyEntries(6_000_000), files.tiny64, { blockSize: 64 * MiB });
  const perBlock = Math.floor((64 * MiB) / EMPTY_RECORD);
  await writeSnapshot(repeat({ key: Buffer.alloc(0), value: Buffer.alloc(0) }, 3 * perBlock), files.empty64x3, { blockSize: 64 * MiB });
  return files;
}

/** In the child: read `file` with `reader`, print what came of it. */
async function child(reader: Reader, file: string): Promise<void> {
  (globalThis as { probeReset?: () => void }).probeReset?.();
  let entries = 0;
  let code = 'ok';
  try {
    if (reader === 'verifySnapshot') {
      entries = (await verifySnapshot(file)).footer.entriesTotal;
    } else {
      for await (const e of readSnapshot(file, { batch: reader === 'readSnapshot-batch' })) {
        entries += Array.isArray(e) ? e.length : 1;
      }
    }
  } catch (err) {
    code = (err as { code?: string }).code ?? String(err);
  }
  process.stdout.write(JSON.stringify({ entries, code }));
}

interface Measured {
  file: string;
  reader: Reader;
  result: string;
  peakMB: number;
  maxPauseMs: number;
  maxGcMs: number;
  seconds: number;
}

function measure(reader: Reader, name: string, file: string, dir: string, timeoutMs: number): Promise<Measured> {
  const out = path.join(dir, `probe-${name}-${reader}.json`);
  fs.rmSync(out, { force: true });
  const args =
    reader === 'unpack' ? ['--import', probe, cli, 'unpack', file] : ['--import', probe, fileURLToPath(import.meta.url), '--child', reader, file];
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { env: { ...process.env, BOMB_PROBE_OUT: out }, stdio: ['ignore', reader === 'unpack' ? 'ignore' : 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', reject);
    p.on('close', (exit, signal) => {
      clearTimeout(timer);
      let m = { peakMB: NaN, maxPauseMs: NaN, maxGcMs: NaN, seconds: NaN };
      try {
        m = JSON.parse(fs.readFileSync(out, 'utf8'));
      } catch {
        /* killed before it could say */
      }
      let result: string;
      if (signal) result = `killed (${signal})`;
      else if (reader === 'unpack') result = exit === 0 ? 'ok' : `exit ${exit}: ${/SNAP_ERR_\w+/.exec(stderr)?.[0] ?? stderr.trim().split('\n')[0]}`;
      else {
        const r = JSON.parse(stdout || '{}') as { entries?: number; code?: string };
        result = r.code === 'ok' ? `ok, ${r.entries} entries` : String(r.code ?? `exit ${exit}`);
      }
      resolve({ file: name, reader, result, peakMB: m.peakMB, maxPauseMs: m.maxPauseMs, maxGcMs: m.maxGcMs, seconds: m.seconds });
    });
  });
}

async function main(argv: string[]): Promise<void> {
  const opt = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const own = opt('--dir') === undefined;
  const dir = opt('--dir') ?? fs.mkdtempSync(path.join(os.tmpdir(), 'snapstream-bomb-'));
  const timeoutMs = Number(opt('--timeout') ?? 300) * 1000;
  fs.mkdirSync(dir, { recursive: true });
  try {
    const files = await makeFiles(dir);
    for (const [name, file] of Object.entries(files)) console.log(`${name.padEnd(10)} ${String(fs.statSync(file).size).padStart(11)} bytes  ${file}`);
    console.log('\nfile       reader               result                      peak RSS  longest pause  (longest GC)   time');
    const rows: Measured[] = [];
    for (const [name, file] of Object.entries(files)) {
      for (const reader of READERS) {
        const r = await measure(reader, name, file, dir, timeoutMs);
        rows.push(r);
        console.log(
          `${r.file.padEnd(10)} ${r.reader.padEnd(20)} ${r.result.padEnd(27)} ${r.peakMB.toFixed(0).padStart(5)} MB  ${r.maxPauseMs.toFixed(1).padStart(8)} ms  (${r.maxGcMs.toFixed(1).padStart(6)} ms)  ${r.seconds.toFixed(1).padStart(5)} s`,
        );
      }
    }
    const worst = rows.filter((r) => r.file !== 'small' && Number.isFinite(r.peakMB));
    console.log(
      `\nworst over the hostile and extreme files: ${Math.max(...worst.map((r) => r.peakMB)).toFixed(0)} MB peak RSS, ` +
        `${Math.max(...worst.map((r) => r.maxPauseMs)).toFixed(1)} ms longest pause (targets: 200 MB, ~50 ms)`,
    );
  } finally {
    if (own) fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child(process.argv[3] as Reader, process.argv[4]!);
else await main(process.argv.slice(2));
