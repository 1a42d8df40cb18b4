/**
 * Bad input is bounded: random and mutated inputs to every decoder (EntryDecoder, Decompressor
 * in byte and block mode, CrcVerifier, and readSnapshot over SnapshotParser) end either in
 * success or in a SnapstreamError with a SNAP_ERR_* code: never a plain Error, TypeError or
 * RangeError, never a hang, never a crash.
 *
 * FUZZ_COUNT (default 10000) sets the inputs per decoder; FUZZ_SEED (default 20240611) the
 * seed. Every failure is reported with the case number, its seed and a hex dump of its input,
 * so it can be replayed alone.
 */
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable, type Duplex } from 'node:stream';
import { promisify } from 'node:util';
import {
  Compressor,
  crc32,
  CrcFooter,
  CrcVerifier,
  Decompressor,
  EntryDecoder,
  EntryEncoder,
  readSnapshot,
  SnapstreamError,
  writeSnapshot,
  type Entry,
} from '../../lib/index.js';
import { mulberry32 } from '../fixtures/random.js';

const COUNT = Number(process.env.FUZZ_COUNT ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20240611);
const CASE_TIMEOUT = 10_000;
const run = promisify(execFile);

type Rand = () => number;

const int = (rand: Rand, n: number): number => Math.floor(rand() * n);
const pick = <T>(rand: Rand, items: readonly T[]): T => items[int(rand, items.length)]!;

function randomBytes(rand: Rand, n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = int(rand, 256);
  return out;
}

/** Length-like values that break parsers: zero, edges of every width, 4 GiB claims. */
const INTERESTING = [
  0, 1, 2, 7, 8, 9, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x1000000, 0x7fffffff, 0x80000000, 0xfffffff0,
  0xfffffffe, 0xffffffff,
];

function lengthField(rand: Rand): number {
  return rand() < 0.8 ? pick(rand, INTERESTING) : int(rand, 0x1_0000_0000);
}

/** One random mutation of `input`: bit flips, overwritten bytes, length fields, splices, cuts. */
function mutateOnce(rand: Rand, input: Buffer, donors: Buffer[]): Buffer {
  const b = Buffer.from(input);
  const at = (extra = 0): number => int(rand, Math.max(1, b.length - extra));
  switch (int(rand, 9)) {
    case 0: {
      for (let i = 1 + int(rand, 8); i > 0 && b.length > 0; i--) b[at()]! ^= 1 << int(rand, 8);
      return b;
    }
    case 1: {
      for (let i = 1 + int(rand, 4); i > 0 && b.length > 0; i--) b[at()] = pick(rand, [0, 0xff, 0x7f, 0x80, int(rand, 256)]);
      return b;
    }
    case 2: {
      // Overwrite a u32 LE length field somewhere (often at a 4-byte boundary).
      if (b.length < 4) return Buffer.concat([b, u32(lengthField(rand))]);
      let p = at(4);
      if (rand() < 0.5) p -= p % 4;
      b.writeUInt32LE(lengthField(rand), p);
      return b;
    }
    case 3: {
      // Insert a length field.
      const p = at();
      return Buffer.concat([b.subarray(0, p), u32(lengthField(rand)), b.subarray(p)]);
    }
    case 4:
      return b.subarray(0, at());
    case 5: {
      // Duplicate a range.
      const s = at();
      const e = Math.min(b.length, s + 1 + int(rand, 512));
      const p = at();
      return Buffer.concat([b.subarray(0, p), b.subarray(s, e), b.subarray(p)]);
    }
    case 6: {
      // Splice in a piece of another valid input.
      const d = pick(rand, donors);
      const s = int(rand, Math.max(1, d.length));
      const piece = d.subarray(s, s + 1 + int(rand, 1024));
      const p = at();
      return rand() < 0.5
        ? Buffer.concat([b.subarray(0, p), piece, b.subarray(p)])
        : Buffer.concat([b.subarray(0, p), piece, b.subarray(Math.min(b.length, p + piece.length))]);
    }
    case 7: {
      // Delete a range.
      const s = at();
      return Buffer.concat([b.subarray(0, s), b.subarray(Math.min(b.length, s + 1 + int(rand, 256)))]);
    }
    default:
      return Buffer.concat([b, randomBytes(rand, 1 + int(rand, 64))]);
  }
}

function mutate(rand: Rand, input: Buffer, donors: Buffer[]): Buffer {
  let b = input;
  for (let n = 1 + int(rand, 3); n > 0; n--) b = mutateOnce(rand, b, donors);
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

/** Cuts `data` into chunks at random places (many small ones sometimes). */
function split(rand: Rand, data: Buffer): Buffer[] {
  if (rand() < 0.3 || data.length === 0) return [data];
  // (Byte-sized chunks only for small inputs, to keep the case count high.)
  const max = data.length > 2048 ? pick(rand, [100, 1000, 5000, 40_000]) : pick(rand, [1, 3, 16, 100, 5000]);
  const out: Buffer[] = [];
  for (let p = 0; p < data.length; ) {
    const n = 1 + int(rand, max);
    out.push(data.subarray(p, p + n));
    p += n;
  }
  return out;
}

/** A byte input: fully random, random behind a valid-looking prefix, or a mutated valid one. */
function byteInput(rand: Rand, valid: Buffer[], magics: Buffer[]): Buffer {
  const r = rand();
  if (r < 0.15) return randomBytes(rand, int(rand, 2048));
  if (r < 0.25) return Buffer.concat([pick(rand, magics), randomBytes(rand, int(rand, 600))]);
  return mutate(rand, pick(rand, valid), valid);
}

interface Outcome {
  error: unknown;
  hung: boolean;
}

/** Runs `work` with a deadline; `abort` tears it down on a hang. */
async function bounded(work: Promise<unknown>, abort: () => void): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => {
      abort();
      resolve({ error: null, hung: true });
    }, CASE_TIMEOUT);
  });
  const done = work.then(
    () => ({ error: null, hung: false }),
    (error: unknown) => ({ error, hung: false }),
  );
  const outcome = await Promise.race([done, hang]);
  clearTimeout(timer);
  return outcome;
}

/** Reads `stream` to its end: resolves on 'end', rejects on 'error' or on a close without either. */
function drain(stream: Readable): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    stream.on('error', (err) => {
      settled = true;
      reject(err);
    });
    stream.on('end', () => {
      settled = true;
      resolve();
    });
    stream.on('close', () => {
      if (!settled) reject(new Error('closed without end or error'));
    });
    stream.resume();
  });
}

/** Writes `chunks` into `stage` (stopping if it fails) and reads all it gives. */
function through(stage: Duplex, chunks: unknown[]): Promise<Outcome> {
  const done = drain(stage);
  for (const c of chunks) {
    if (stage.destroyed) break;
    stage.write(c);
  }
  if (!stage.destroyed) stage.end();
  return bounded(done, () => stage.destroy());
}

/** What is wrong with an outcome, or null when it is a success or a typed error. */
function verdict(o: Outcome): string | null {
  if (o.hung) return 'hung';
  if (o.error === null) return null;
  if (!(o.error instanceof SnapstreamError)) {
    const e = o.error as Error;
    return `untyped ${e?.constructor?.name ?? typeof e}: ${e?.message ?? String(e)}\n${e?.stack ?? ''}`;
  }
  if (!/^SNAP_ERR_[A-Z_]+$/.test(o.error.code)) return `bad code ${o.error.code}`;
  return null;
}

interface Report {
  cases: number;
  failures: string[];
  codes: Map<string, number>;
}

/** Runs `count` cases of `one(rand, i)`, each from its own seed, collecting what went wrong. */
async function fuzz(
  name: string,
  count: number,
  one: (rand: Rand, i: number) => Promise<{ outcome: Outcome; input: Buffer | string }>,
): Promise<Report> {
  const report: Report = { cases: 0, failures: [], codes: new Map() };
  for (let i = 0; i < count; i++) {
    const seed = (SEED ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0;
    const { outcome, input } = await one(mulberry32(seed), i);
    report.cases++;
    const code = outcome.hung ? 'hang' : outcome.error === null ? 'ok' : ((outcome.error as SnapstreamError).code ?? 'untyped');
    report.codes.set(code, (report.codes.get(code) ?? 0) + 1);
    const problem = verdict(outcome);
    if (problem) {
      const dump = typeof input === 'string' ? input : input.subarray(0, 512).toString('hex');
      report.failures.push(`${name} case ${i} (seed ${seed}): ${problem}\n  input[${input.length}]: ${dump}`);
      if (report.failures.length >= 10) break;
    }
  }
  return report;
}

function summarize(t: Test, report: Report, count: number): void {
  t.same(report.failures, [], 'every input ends in success or a SnapstreamError');
  t.equal(report.cases, count, `${count} inputs`);
  t.ok((report.codes.get('ok') ?? 0) < count, 'and most are refused (the inputs are bad)');
  t.comment(JSON.stringify(Object.fromEntries(report.codes)));
}

// ---------------------------------------------------------------- valid inputs to mutate

const base = mulberry32(SEED);

function sampleEntries(rand: Rand, n: number): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const key = rand() < 0.5 ? `key-${i}-${'é'.repeat(int(rand, 4))}` : randomBytes(rand, int(rand, 24));
    const value = rand() < 0.5 ? 'v'.repeat(int(rand, 300)) : randomBytes(rand, int(rand, 300));
    const e: Entry = { key, value };
    if (rand() < 0.3) e.expiresAt = int(rand, 2 ** 41);
    out.push(e);
  }
  return out;
}

async function collect(stream: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of stream) out.push(c as Buffer);
  return Buffer.concat(out);
}

const recordStreams: Buffer[] = [];
for (const n of [0, 1, 3, 20, 60]) {
  recordStreams.push(await collect(Readable.from([sampleEntries(base, n)]).pipe(new EntryEncoder())));
}

function rawSample(rand: Rand, n: number, noise = 0.3): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = rand() < noise ? int(rand, 256) : 0x61 + (i % 11);
  return b;
}

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'snapstream-fuzz-'));
// On every exit, also one cut short by a failure.
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

async function tool(cmd: string): Promise<Buffer> {
  const { stdout } = await run('sh', ['-c', cmd], { encoding: 'buffer', maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** A frame from the stock lz4 tool re-labelled with 4 MiB blocks, so 5+ blocks take the streaming decoder. */
function widenLz4Blocks(frame: Buffer): Buffer {
  const out = Buffer.from(frame);
  out[5] = 0x70;
  const hcAt = 6 + (out[4]! & 0x08 ? 8 : 0) + (out[4]! & 0x01 ? 4 : 0);
  out[hcAt] = (xxh32(out.subarray(4, hcAt)) >>> 8) & 0xff;
  return out;
}

/** xxHash32 (only for LZ4 header checksums of crafted frames). */
function xxh32(data: Buffer): number {
  const P1 = 0x9e3779b1, P2 = 0x85ebca77, P3 = 0xc2b2ae3d, P4 = 0x27d4eb2f, P5 = 0x165667b1;
  const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));
  if (data.length >= 16) throw new Error('short inputs only');
  let h = (P5 + data.length) | 0;
  let i = 0;
  for (; i + 4 <= data.length; i += 4) h = Math.imul(rotl((h + Math.imul(data.readUInt32LE(i), P3)) | 0, 17), P4);
  for (; i < data.length; i++) h = Math.imul(rotl((h + Math.imul(data[i]!, P5)) | 0, 11), P1);
  h ^= h >>> 15;
  h = Math.imul(h, P2);
  h ^= h >>> 13;
  h = Math.imul(h, P3);
  h ^= h >>> 16;
  return h >>> 0;
}

const rawFile = path.join(tmp, 'raw');
await fs.writeFile(rawFile, rawSample(base, 3000));
const bigRawFile = path.join(tmp, 'raw-big');
await fs.writeFile(bigRawFile, rawSample(base, 330 * 1024, 0.01));
const stockFrames = [
  await tool(`zstd -q -c -3 ${rawFile}`),
  await tool(`zstd -q -c -1 --no-check < ${rawFile}`), // no content size: streaming decoder
  await tool(`lz4 -q -c ${rawFile}`),
  await tool(`lz4 -q -c -BD -BX --content-size ${rawFile}`),
  await tool(`lz4 -q -c --no-frame-crc < ${rawFile}`),
  await tool(`lz4 -q -c -l ${rawFile}`),
  widenLz4Blocks(await tool(`lz4 -q -c -B4 -BD < ${bigRawFile}`)),
  widenLz4Blocks(await tool(`lz4 -q -c -B4 -BX < ${bigRawFile}`)),
];

const compressed: Buffer[] = [];
for (const codec of ['zstd', 'lz4', 'none'] as const) {
  for (const [size, trailer] of [
    [0, false],
    [500, true],
    [9000, false],
    [9000, true],
  ] as const) {
    const raw = rawSample(base, size);
    let out: Readable = Readable.from([raw]).pipe(new Compressor({ codec, blockSize: 4096 }));
    if (trailer) out = out.pipe(new CrcFooter());
    compressed.push(await collect(out));
  }
}
const frameInputs = [...compressed, ...stockFrames];
t.comment(`frame inputs: ${frameInputs.map((f) => f.length).join(' ')} bytes`);
const FRAME_MAGICS = ['28b52ffd', '04224d18', '502a4d18', '5a2a4d18', '02214c18'].map((h) => Buffer.from(h, 'hex'));

const crcInputs: Buffer[] = [];
for (const data of [Buffer.alloc(0), rawSample(base, 10), rawSample(base, 4000), ...recordStreams.slice(2, 4)]) {
  crcInputs.push(await collect(Readable.from([data]).pipe(new CrcFooter())));
}

const snapshots: Buffer[] = [];
for (const codec of ['zstd', 'lz4', 'none'] as const) {
  for (const n of [0, 1, 40]) {
    const file = path.join(tmp, `valid-${codec}-${n}`);
    await writeSnapshot(sampleEntries(base, n), file, { codec, blockSize: 4096, meta: { index: n, term: 2 } });
    snapshots.push(await fs.readFile(file));
  }
}

/** The metadata frames of a snapshot: where each starts and its payload length. */
function metaFrames(file: Buffer): Array<{ at: number; size: number }> {
  const out: Array<{ at: number; size: number }> = [];
  let at = 0;
  while (at + 8 <= file.length) {
    const size = file.readUInt32LE(at + 4);
    out.push({ at, size });
    const tag = file.toString('latin1', at + 8, at + 12);
    let next = at + 8 + size;
    if (tag === 'SBLK') next += file.readUInt32LE(at + 16);
    at = next;
  }
  return out;
}

/**
 * A structure-aware mutation: change fields inside one metadata frame of a valid snapshot and
 * re-seal the frame's own CRC, so the change gets past the frame check to the code that uses
 * the fields (lengths, totals, cursor lengths, versions, codec ids).
 */
function mutateSnapshotField(rand: Rand, file: Buffer): Buffer {
  const b = Buffer.from(file);
  const frames = metaFrames(b);
  const f = pick(rand, frames);
  const payload = f.at + 8;
  const end = payload + f.size - 4; // the CRC's place
  if (end <= payload + 4) return b;
  for (let n = 1 + int(rand, 2); n > 0; n--) {
    const p = payload + 4 + 4 * int(rand, Math.max(1, Math.floor((end - payload - 4) / 4)));
    if (p + 4 <= end) b.writeUInt32LE(lengthField(rand), p);
  }
  // Keep the totals consistent with a changed rawLength / entries now and then, to go deeper.
  const tag = b.toString('latin1', payload, payload + 4);
  if (tag === 'SBLK' && rand() < 0.5) {
    const rawLength = b.readUInt32LE(payload + 12);
    const prevRaw = Number(file.readBigUInt64LE(payload + 48)) - file.readUInt32LE(payload + 12);
    b.writeBigUInt64LE(BigInt(prevRaw + rawLength), payload + 48);
  }
  if (end <= b.length) b.writeUInt32LE(crc32(b.subarray(payload, end)), end);
  return b;
}

// ---------------------------------------------------------------- the decoders

t.test('EntryDecoder', async (t) => {
  const report = await fuzz('EntryDecoder', COUNT, async (rand) => {
    const r = rand();
    let input: Buffer;
    if (r < 0.15) input = randomBytes(rand, int(rand, 1024));
    else if (r < 0.3) {
      // A record header claiming a huge key or value, then some bytes.
      input = Buffer.concat([
        Buffer.from([pick(rand, [0, 1, 2, 4, 7, 8, 0xff])]),
        u32(lengthField(rand)),
        u32(lengthField(rand)),
        randomBytes(rand, int(rand, 64)),
      ]);
    } else input = mutate(rand, pick(rand, recordStreams), recordStreams);
    const decoder = new EntryDecoder({
      skipExpired: rand() < 0.3,
      now: int(rand, 2 ** 41),
      batch: rand() < 0.3,
      copy: rand() < 0.2,
      ...(rand() < 0.1 ? { maxRecordSize: int(rand, 4096) } : {}),
    });
    return { outcome: await through(decoder, split(rand, input)), input };
  });
  summarize(t, report, COUNT);
});

t.test('Decompressor (bytes)', async (t) => {
  const report = await fuzz('Decompressor', COUNT, async (rand) => {
    const input = byteInput(rand, frameInputs, FRAME_MAGICS);
    const d = new Decompressor(rand() < 0.3 ? { concurrency: 1 + int(rand, 4) } : {});
    return { outcome: await through(d, split(rand, input)), input };
  });
  summarize(t, report, COUNT);
});

/** zstd and LZ4 frames of snapstream's own blocks, for block mode. */
const blockFrames: Array<{ frame: Buffer; rawLength: number; crc: number }> = [];
for (const codec of ['zstd', 'lz4', 'none'] as const) {
  const c = new Compressor({ codec, blockSize: 4096, blocks: true });
  const out = Readable.from([
    { data: rawSample(base, 4096), entries: 1 },
    { data: rawSample(base, 100), entries: 1 },
    { data: Buffer.alloc(0), entries: 0 },
  ]).pipe(c);
  for await (const b of out) blockFrames.push({ frame: b.frame, rawLength: b.rawLength, crc: b.crc });
}

t.test('Decompressor (blocks)', async (t) => {
  const donors = blockFrames.map((b) => b.frame);
  const report = await fuzz('Decompressor blocks', COUNT, async (rand) => {
    const inputs: Record<string, unknown>[] = [];
    for (let n = 1 + int(rand, 3); n > 0; n--) {
      const valid = pick(rand, blockFrames);
      const r = rand();
      const frame = r < 0.1 ? randomBytes(rand, int(rand, 300)) : r < 0.25 ? valid.frame : mutate(rand, valid.frame, donors);
      const rawLength =
        rand() < 0.7 ? valid.rawLength : pick(rand, [0, 1, valid.rawLength + 1, valid.rawLength - 1, -1, 0.5, 2 ** 28 + 1, 0xffffffff, int(rand, 70_000)]);
      const input: Record<string, unknown> = { frame, rawLength, seq: n };
      if (rand() < 0.6) input.crc = rand() < 0.8 ? crc32(frame) : valid.crc;
      if (rand() < 0.3) input.offset = int(rand, 1e6);
      if (rand() < 0.02) input.frame = pick(rand, [null, 'text', 42, undefined]);
      inputs.push(input);
    }
    const d = new Decompressor({ blocks: true });
    const described = inputs.map((x) => `${Buffer.isBuffer(x.frame) ? x.frame.toString('hex').slice(0, 200) : String(x.frame)}/${String(x.rawLength)}/${String(x.crc)}`).join(' ');
    return { outcome: await through(d, inputs), input: described };
  });
  summarize(t, report, COUNT);
});

t.test('CrcVerifier', async (t) => {
  const report = await fuzz('CrcVerifier', COUNT, async (rand) => {
    const r = rand();
    let input: Buffer;
    if (r < 0.2) input = randomBytes(rand, int(rand, 100));
    else if (r < 0.4) {
      // Data plus a trailer whose fields are replaced: CRC, length (including 2^53+ lengths).
      const valid = pick(rand, crcInputs);
      input = Buffer.from(valid);
      const tail = input.length - 24;
      input.writeUInt32LE(lengthField(rand), tail + pick(rand, [4, 12, 16, 20]));
    } else input = mutate(rand, pick(rand, crcInputs), crcInputs);
    return { outcome: await through(new CrcVerifier(), split(rand, input)), input };
  });
  summarize(t, report, COUNT);
});

t.test('readSnapshot (SnapshotParser → Decompressor → EntryDecoder)', async (t) => {
  const file = path.join(tmp, 'fuzzed.snap');
  const report = await fuzz('readSnapshot', COUNT, async (rand) => {
    const r = rand();
    let input: Buffer;
    if (r < 0.05) input = randomBytes(rand, int(rand, 600));
    else if (r < 0.35) input = mutateSnapshotField(rand, pick(rand, snapshots));
    else input = mutate(rand, pick(rand, snapshots), snapshots);
    await fs.writeFile(file, input);
    const stream = readSnapshot(file, { skipExpired: rand() < 0.2, batch: rand() < 0.3 });
    return { outcome: await bounded(drain(stream), () => stream.destroy()), input };
  });
  summarize(t, report, COUNT);
});
