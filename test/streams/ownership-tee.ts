/**
 * What a public stage emits belongs to its consumer: every stage's output, teed to consumers
 * that keep every chunk (one of them slow) and to the stages that would naturally come next,
 * is intact at the end — after the stream finished and after more data flowed through fresh
 * stages of the same kind, which is when reused memory would show. The case: a
 * block-mode Decompressor teed into two EntryDecoders (`copy: true`), where one branch handed
 * the block back to a pool while the other still decoded it.
 */
import t, { type Test } from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { PassThrough, Readable, Transform, Writable, type Duplex } from 'node:stream';
import {
  Chunker,
  Compressor,
  crc32,
  crcTrailer,
  CrcFooter,
  CrcVerifier,
  Decompressor,
  Dechunker,
  EntryDecoder,
  EntryEncoder,
  EntrySource,
  SnapshotFramer,
  SnapshotParser,
  readSnapshot,
  writeSnapshot,
  type CodecName,
  type CompressedBlock,
  type Entry,
  type RawBlock,
} from '../../lib/index.js';
import { chunks, mulberry32, textWithNoise } from '../fixtures/random.js';

const KiB = 1024;
const BLOCK = 64 * KiB;

/** Seeded entries of uneven sizes, text and bytes: ~`bytes` of records. */
function entries(seed: number, bytes = 600 * KiB): Entry[] {
  const rand = mulberry32(seed);
  const out: Entry[] = [];
  for (let i = 0, n = 0; n < bytes; i++) {
    const size = Math.floor(rand() * rand() * 2 * KiB);
    const value = Buffer.alloc(size, (i + seed) % 251);
    for (let j = 0; j < size; j += 16) value[j] = Math.floor(rand() * 256);
    out.push(i % 4 === 0 ? { key: `k-${seed}-${i}`, value: value.toString('latin1') } : { key: Buffer.from(`b-${seed}-${i}`), value });
    n += size + 16;
  }
  return out;
}

/** A deep copy of a chunk's bytes: Buffers, strings and numbers, inside objects and arrays. */
function snapshotOf(chunk: unknown): unknown {
  if (Buffer.isBuffer(chunk)) return Buffer.from(chunk);
  if (chunk instanceof Uint8Array) return Buffer.from(chunk);
  if (Array.isArray(chunk)) return chunk.map(snapshotOf);
  if (chunk && typeof chunk === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(chunk)) out[k] = snapshotOf(v);
    return out;
  }
  return chunk;
}

/** Where `now` differs from `then` (a path into the chunk), or null when they are the same. */
function difference(now: unknown, then: unknown, where = ''): string | null {
  if (Buffer.isBuffer(then)) {
    if (!(now instanceof Uint8Array)) return `${where}: no longer bytes`;
    if (now.byteLength !== then.length) return `${where}: ${now.byteLength} bytes, was ${then.length}`;
    return Buffer.from(now.buffer, now.byteOffset, now.byteLength).equals(then) ? null : `${where}: bytes changed`;
  }
  if (Array.isArray(then)) {
    if (!Array.isArray(now) || now.length !== then.length) return `${where}: array changed`;
    for (let i = 0; i < then.length; i++) {
      const d = difference(now[i], then[i], `${where}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (then && typeof then === 'object') {
    for (const [k, v] of Object.entries(then)) {
      const d = difference((now as Record<string, unknown>)[k], v, `${where}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return now === then ? null : `${where}: ${String(now)}, was ${String(then)}`;
}

/** A consumer that keeps every chunk with a copy taken as it arrived; `slow` answers a few turns late. */
class Keeper extends Writable {
  readonly kept: { chunk: unknown; copy: unknown }[] = [];
  constructor(readonly slow = false) {
    super({ objectMode: true, highWaterMark: 1 });
  }
  override _write(chunk: unknown, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.kept.push({ chunk, copy: snapshotOf(chunk) });
    if (!this.slow) return cb();
    setImmediate(() => setImmediate(() => setImmediate(cb)));
  }
  /** The first kept chunk that changed since it arrived, or null. */
  changed(): string | null {
    for (let i = 0; i < this.kept.length; i++) {
      const d = difference(this.kept[i]!.chunk, this.kept[i]!.copy, `chunk ${i}`);
      if (d) return d;
    }
    return null;
  }
  /** All that arrived, as copies (to compare two consumers). */
  copies(): unknown[] {
    return this.kept.map((k) => k.copy);
  }
}

/** A branch of the tee: the stream written to, and the keepers that must be intact at the end. */
interface Branch {
  head: Writable;
  keepers: Keeper[];
  done: Promise<void>;
}

function finished(s: Writable | Duplex): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.once('finish', () => resolve());
  });
}

function keep(slow = false): Branch {
  const k = new Keeper(slow);
  return { head: k, keepers: [k], done: finished(k) };
}

/** The next stages (piped in a row), the last one's output kept. */
function through(...stages: Duplex[]): Branch {
  const k = new Keeper();
  const failed = stages.map((s) => new Promise<never>((_res, rej) => s.once('error', rej)));
  for (let i = 1; i < stages.length; i++) stages[i - 1]!.pipe(stages[i]!);
  stages[stages.length - 1]!.pipe(k);
  return { head: stages[0]!, keepers: [k], done: Promise.race([finished(k), ...failed]) };
}

interface Round {
  keepers: Keeper[];
  /** The two direct keepers (fast, slow) and the branch keepers, per branch. */
  branches: Branch[];
}

/**
 * Feeds `input` into `stage`, its output teed (pipe to several destinations) into a fast and a
 * slow keeper and the given branches; resolves when every branch is done.
 */
async function teeRound(stage: Duplex | Readable, input: unknown[] | null, more: () => Branch[]): Promise<Round> {
  const branches = [keep(false), keep(true), ...more()];
  if (input) Readable.from(input, { objectMode: true }).pipe(stage as Duplex);
  const tee = async (): Promise<void> => {
    // Every chunk to every branch, each waited for when it pushes back.
    for await (const chunk of stage) {
      const full = branches.filter((b) => !b.head.write(chunk));
      // A branch that failed or closed is not waited for: its `done` says why.
      await Promise.all(full.map((b) => new Promise((resolve) => b.head.once('drain', resolve).once('close', resolve))));
    }
    for (const b of branches) b.head.end();
  };
  await Promise.all([tee(), ...branches.map((b) => b.done)]);
  return { keepers: branches.flatMap((b) => b.keepers), branches };
}

interface Case {
  name: string;
  /** A fresh stage and its input for round `seed`, and the next stages to tee into. */
  make(seed: number): { stage: Duplex | Readable; input: unknown[] | null; next: () => Branch[] };
}

/** Runs a case twice (more data through fresh stages of the same kind) and checks every kept chunk. */
async function check(t: Test, c: Case): Promise<void> {
  const rounds: Round[] = [];
  for (const seed of [1, 2]) {
    const { stage, input, next } = c.make(seed);
    rounds.push(await teeRound(stage, input, next));
  }
  for (const [r, round] of rounds.entries()) {
    const [fast, slow] = round.keepers as [Keeper, Keeper];
    t.ok(fast.kept.length > 0, `${c.name}, round ${r}: output arrived`);
    t.ok(isDeepStrictEqual(slow.copies(), fast.copies()), `${c.name}, round ${r}: the slow consumer got what the fast one got`);
    for (const [i, k] of round.keepers.entries()) t.equal(k.changed(), null, `${c.name}, round ${r}, consumer ${i}: every kept chunk intact`);
    // Branches made of the same next stage must agree with each other.
    const next = round.branches.slice(2);
    for (let i = 1; i < next.length; i++) {
      if (next[i]!.head.constructor !== next[0]!.head.constructor) continue;
      const same = isDeepStrictEqual(next[i]!.keepers[0]!.copies(), next[0]!.keepers[0]!.copies());
      t.ok(same, `${c.name}, round ${r}: branch ${i + 2} agrees with branch 2`);
    }
  }
}

// Inputs made once per seed with plain stages (no tee), reused by the cases below.
const bytesOf = (seed: number): Buffer => textWithNoise(700 * KiB, seed, 12);

async function collect(stage: Duplex, input: unknown[]): Promise<unknown[]> {
  const out: unknown[] = [];
  const done = (async () => {
    for await (const c of stage) out.push(c);
  })();
  for (const c of input) if (!stage.write(c)) await new Promise((r) => stage.once('drain', r));
  stage.end();
  await done;
  return out;
}

const encoded = async (seed: number): Promise<Buffer> =>
  Buffer.concat((await collect(new EntryEncoder({ blockSize: BLOCK }), entries(seed))) as Buffer[]);
const rawBlocks = async (seed: number): Promise<RawBlock[]> =>
  (await collect(new EntryEncoder({ blockSize: BLOCK, blocks: true }), entries(seed))) as RawBlock[];
const compressedBlocks = async (seed: number, codec: CodecName): Promise<CompressedBlock[]> =>
  (await collect(new Compressor({ blocks: true, codec, blockSize: BLOCK }), await rawBlocks(seed))) as CompressedBlock[];
const compressed = async (seed: number, codec: CodecName): Promise<Buffer> =>
  Buffer.concat((await collect(new Compressor({ codec, blockSize: BLOCK }), [bytesOf(seed)])) as Buffer[]);
const snapshotBytes = async (seed: number, codec: CodecName): Promise<Buffer> =>
  Buffer.concat(
    (await collect(new SnapshotFramer({ codec, blockSize: BLOCK, createdAt: 0 }), await compressedBlocks(seed, codec))) as Buffer[],
  );

const CODECS: CodecName[] = ['zstd', 'lz4', 'none'];
const inputs = new Map<string, unknown>();
const prepared = <T>(key: string): T => inputs.get(key) as T;

t.before(async () => {
  for (const seed of [1, 2]) {
    inputs.set(`encoded${seed}`, await encoded(seed));
    inputs.set(`raw${seed}`, await rawBlocks(seed));
    for (const codec of CODECS) {
      inputs.set(`blocks-${codec}${seed}`, await compressedBlocks(seed, codec));
      inputs.set(`bytes-${codec}${seed}`, await compressed(seed, codec));
      inputs.set(`snap-${codec}${seed}`, await snapshotBytes(seed, codec));
    }
  }
  for (const seed of [1, 2]) {
    const data = Buffer.concat([bytesOf(seed), bytesOf(seed + 10), bytesOf(seed + 20), bytesOf(seed + 30), bytesOf(seed + 40), bytesOf(seed + 50), bytesOf(seed + 60)]);
    const z = Buffer.concat((await collect(new Compressor({ codec: 'zstd', blockSize: BLOCK }), [data])) as Buffer[]);
    inputs.set(`chunked${seed}`, Buffer.concat((await collect(new Chunker({ chunkSize: 4 * 1024 * KiB }), [z, Buffer.from(z)])) as Buffer[]));
  }
});

/** The FrameInputs a block-mode Decompressor takes, from compressed blocks. */
const frameInputs = (blocks: CompressedBlock[]): object[] =>
  blocks.map((b, seq) => ({ frame: Buffer.from(b.frame), rawLength: b.rawLength, crc: b.crc, entries: b.entries, seq }));

const cases: Case[] = [
  {
    name: 'EntryEncoder',
    make: (seed) => ({ stage: new EntryEncoder({ blockSize: BLOCK }), input: entries(seed), next: () => [through(new EntryDecoder({ copy: true }))] }),
  },
  ...CODECS.map((codec): Case => ({
    name: `EntryEncoder (blocks) → Compressor ${codec}`,
    make: (seed) => ({
      stage: new EntryEncoder({ blockSize: BLOCK, blocks: true }),
      input: entries(seed),
      next: () => [through(new Compressor({ blocks: true, codec })), through(new Compressor({ blocks: true, codec }))],
    }),
  })),
  ...CODECS.map((codec): Case => ({
    name: `EntrySource → Compressor ${codec}`,
    make: (seed) => ({
      stage: new EntrySource(entries(seed), { blockSize: BLOCK }),
      input: null,
      next: () => [through(new Compressor({ blocks: true, codec })), through(new Compressor({ blocks: true, codec }))],
    }),
  })),
  {
    name: 'EntryDecoder',
    make: (seed) => ({ stage: new EntryDecoder(), input: [...chunks(prepared<Buffer>(`encoded${seed}`), -9000, seed)], next: () => [] }),
  },
  {
    name: 'EntryDecoder (batch)',
    make: (seed) => ({ stage: new EntryDecoder({ batch: true }), input: [...chunks(prepared<Buffer>(`encoded${seed}`), -9000, seed)], next: () => [] }),
  },
  {
    name: 'EntryDecoder (columns)',
    make: (seed) => ({ stage: new EntryDecoder({ batch: 'columns' }), input: [...chunks(prepared<Buffer>(`encoded${seed}`), -9000, seed)], next: () => [through(flatten())] }),
  },
  {
    name: 'EntryDecoder (blocks, columns, copy)',
    make: (seed) => ({
      stage: new EntryDecoder({ blocks: true, batch: 'columns', copy: true }),
      input: prepared<RawBlock[]>(`raw${seed}`).map((b) => ({ data: Buffer.from(b.data), entries: b.entries })),
      next: () => [through(flatten())],
    }),
  },
  {
    name: 'EntryDecoder (blocks, batch, copy)',
    make: (seed) => ({
      stage: new EntryDecoder({ blocks: true, batch: true, copy: true }),
      input: prepared<RawBlock[]>(`raw${seed}`).map((b) => ({ data: Buffer.from(b.data), entries: b.entries })),
      next: () => [],
    }),
  },
  ...CODECS.map((codec): Case => ({
    name: `Compressor ${codec}`,
    make: (seed) => ({
      stage: new Compressor({ codec, blockSize: BLOCK }),
      input: [...chunks(bytesOf(seed), -50_000, seed)],
      next: () => [through(new Decompressor()), through(new Decompressor()), through(new CrcFooter())],
    }),
  })),
  ...CODECS.map((codec): Case => ({
    name: `Compressor ${codec} (blocks)`,
    make: (seed) => ({
      stage: new Compressor({ codec, blocks: true }),
      input: prepared<RawBlock[]>(`raw${seed}`).map((b) => ({ data: Buffer.from(b.data), entries: b.entries })),
      next: () => [through(new Decompressor({ blocks: true })), through(new Decompressor({ blocks: true }))],
    }),
  })),
  ...CODECS.map((codec): Case => ({
    name: `Decompressor ${codec}`,
    make: (seed) => ({
      stage: new Decompressor(),
      input: [...chunks(prepared<Buffer>(`bytes-${codec}${seed}`), -40_000, seed)],
      next: () => [through(new CrcFooter()), through(new CrcFooter())],
    }),
  })),
  ...CODECS.map((codec): Case => ({
    // The case: a block decoded by one EntryDecoder must not go back to a pool while the other still reads it.
    name: `Decompressor ${codec} (blocks) → two EntryDecoders (copy)`,
    make: (seed) => ({
      stage: new Decompressor({ blocks: true }),
      input: frameInputs(prepared<CompressedBlock[]>(`blocks-${codec}${seed}`)),
      next: () => [
        through(new EntryDecoder({ blocks: true, copy: true })),
        through(new EntryDecoder({ blocks: true, copy: true, batch: true }), flatten()),
        through(new EntryDecoder({ blocks: true, copy: true, batch: 'columns' }), flatten()),
      ],
    }),
  })),
  {
    name: 'CrcFooter',
    make: (seed) => ({
      stage: new CrcFooter(),
      input: [...chunks(prepared<Buffer>(`bytes-zstd${seed}`), -30_000, seed)],
      next: () => [through(new CrcVerifier()), through(new CrcVerifier())],
    }),
  },
  {
    name: 'CrcVerifier',
    make: (seed) => ({
      stage: new CrcVerifier(),
      input: [...chunks(withTrailer(prepared<Buffer>(`bytes-zstd${seed}`)), -30_000, seed)],
      next: () => [through(new Decompressor()), through(new Decompressor())],
    }),
  },
  {
    name: 'Chunker',
    make: (seed) => ({
      stage: new Chunker({ chunkSize: 4 * 1024 * KiB }),
      input: [...chunks(Buffer.concat([bytesOf(seed), bytesOf(seed + 10), bytesOf(seed + 20), bytesOf(seed + 30), bytesOf(seed + 40), bytesOf(seed + 50), bytesOf(seed + 60)]), -300_000, seed)],
      next: () => [through(new Dechunker()), through(new Dechunker())],
    }),
  },
  {
    name: 'Dechunker',
    make: (seed) => ({
      stage: new Dechunker(),
      input: [...chunks(prepared<Buffer>(`chunked${seed}`), -200_000, seed)],
      next: () => [through(new Decompressor()), through(new Decompressor())],
    }),
  },
  ...CODECS.map((codec): Case => ({
    name: `SnapshotFramer ${codec}`,
    make: (seed) => ({
      stage: new SnapshotFramer({ codec, blockSize: BLOCK, createdAt: 0 }),
      input: prepared<CompressedBlock[]>(`blocks-${codec}${seed}`).map((b) => ({ ...b, frame: Buffer.from(b.frame) })),
      next: () => [through(new SnapshotParser()), through(new SnapshotParser())],
    }),
  })),
  ...CODECS.map((codec): Case => ({
    // Frames spanning input chunks are the parser's own copies: teed, neither branch may take them over.
    name: `SnapshotParser ${codec} → two Decompressors (blocks)`,
    make: (seed) => ({
      stage: new SnapshotParser(),
      input: [...chunks(prepared<Buffer>(`snap-${codec}${seed}`), -20_000, seed)],
      next: () => [
        through(new Decompressor({ blocks: true }), new EntryDecoder({ blocks: true, copy: true })),
        through(new Decompressor({ blocks: true }), new EntryDecoder({ blocks: true, copy: true })),
      ],
    }),
  })),
];

/** Batches of entries → the entries. */
function flatten(): Duplex {
  return new Transform({
    objectMode: true,
    transform(batch: unknown[], _e, cb) {
      for (const e of batch) this.push(e);
      cb();
    },
  });
}

const withTrailer = (data: Buffer): Buffer => Buffer.concat([data, crcTrailer(crc32(data), data.length)]);


for (const c of cases) t.test(c.name, (t) => check(t, c));

t.test('readSnapshot, entries and batches', async (t) => {
  const dir = t.testdir();
  for (const batch of [false, true, 'columns'] as const) {
    const rounds: Keeper[][] = [];
    for (const seed of [1, 2]) {
      const file = path.join(dir, `s${seed}-${batch}.snap`);
      await writeSnapshot(entries(seed, 2 * 1024 * KiB), file, { blockSize: BLOCK });
      t.ok(fs.statSync(file).size > 0);
      const stream = readSnapshot(file, { batch });
      const round = await teeRound(stream, null, () => [through(flattenIf(batch))]);
      rounds.push(round.keepers);
    }
    for (const [r, keepers] of rounds.entries()) {
      t.ok(isDeepStrictEqual(keepers[1]!.copies(), keepers[0]!.copies()), `batch ${batch}, round ${r}: slow and fast consumers agree`);
      for (const [i, k] of keepers.entries()) t.equal(k.changed(), null, `batch ${batch}, round ${r}, consumer ${i}: intact`);
    }
  }
});

const flattenIf = (batch: boolean | 'columns'): Duplex => (batch !== false ? flatten() : new PassThrough({ objectMode: true }));
