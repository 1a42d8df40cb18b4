/**
 * The measured cases. Each runs in a child process of its own (see run.ts), so its peak RSS is
 * its own, and prints one JSON line: { seconds, maxRssMB }.
 */
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import {
  compressFile,
  createCompressor,
  createCrcFooter,
  createCrcVerifier,
  createDecompressor,
  readSnapshot,
  sampleEntries,
  writeSnapshot,
  type DecodedEntry,
} from 'snapstream';
import { BENCH_NOW } from './bench-now.js';
import { holdEntries, settle } from './big-heap.js';
import { datasetEntries } from './datasets.js';
import { cpuSeconds, peakRssMB } from './peak-rss.js';

export { BENCH_NOW };

export interface CasePaths {
  raw: string;
  out: string;
  size: number;
}

const nullSink = (objectMode = false): Writable =>
  new Writable({ objectMode, highWaterMark: objectMode ? 16 : 1 << 20, write: (_c, _e, cb) => cb() });

const read = (path: string, highWaterMark = 1 << 20): fs.ReadStream => fs.createReadStream(path, { highWaterMark });

export const cases: Record<string, (p: CasePaths) => Promise<void>> = {
  /** Raw encoded bytes → Compressor zstd 1 → CrcFooter → file, as the compressFile recipe composes it. */
  async 'bytes-zstd'(p) {
    await compressFile(p.raw, p.out, { codec: 'zstd', level: 1 });
  },
  async 'bytes-lz4'(p) {
    await compressFile(p.raw, p.out, { codec: 'lz4' });
  },
  /**
   * The composable byte pipeline as a user writes it: `fs.createReadStream → createCompressor →
   * createCrcFooter → fs.createWriteStream` (a copy per byte, a fresh buffer per read).
   */
  async 'bytes-zstd-fs'(p) {
    await pipeline(read(p.raw), createCompressor({ codec: 'zstd', level: 1 }), createCrcFooter(), fs.createWriteStream(p.out));
  },
  /** The same with `fs.createReadStream`'s default reads (64 KiB): sixteen chunks to a block. */
  async 'bytes-zstd-fs-64k'(p) {
    await pipeline(fs.createReadStream(p.raw), createCompressor({ codec: 'zstd', level: 1 }), createCrcFooter(), fs.createWriteStream(p.out));
  },
  /** The same with 256 KiB reads: what smaller read buffers trade (less memory, more calls). */
  async 'bytes-zstd-fs-256k'(p) {
    await pipeline(read(p.raw, 256 * 1024), createCompressor({ codec: 'zstd', level: 1 }), createCrcFooter(), fs.createWriteStream(p.out));
  },
  /**
   * The same stages fed by a reader that reuses one buffer (it waits for each write's callback:
   * the Compressor has copied the chunk by then), so the only memory allocated per chunk is
   * the stages' own — the frames (bench/heap-gc.ts: what the stages alone cost in a big heap).
   */
  async 'bytes-zstd-reuse'(p) {
    const compressor = createCompressor({ codec: 'zstd', level: 1 });
    const done = pipeline(compressor, createCrcFooter(), fs.createWriteStream(p.out));
    const fd = fs.openSync(p.raw, 'r');
    const buf = Buffer.allocUnsafe(1 << 20);
    try {
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        await new Promise<void>((resolve, reject) => compressor.write(buf.subarray(0, n), (err) => (err ? reject(err) : resolve())));
      }
    } finally {
      fs.closeSync(fd);
    }
    compressor.end();
    await done;
  },
  /** writeSnapshot from generated Buffer entries (the same data as the raw file). */
  async 'entries-buffer'(p) {
    await writeSnapshot(sampleEntries({ bytes: p.size, now: BENCH_NOW }), p.out, { codec: 'zstd', level: 1 });
  },
  async 'entries-string'(p) {
    await writeSnapshot(sampleEntries({ bytes: p.size, now: BENCH_NOW, text: true }), p.out, { codec: 'zstd', level: 1 });
  },
  /** writeSnapshot from the entries of the random and the mixed data sets (bench/datasets.ts). */
  async 'entries-random'(p) {
    await writeSnapshot(datasetEntries('random', p.size), p.out, { codec: 'zstd', level: 1 });
  },
  async 'entries-mixed'(p) {
    await writeSnapshot(datasetEntries('mixed', p.size), p.out, { codec: 'zstd', level: 1 });
  },
  /** writeSnapshot of the small data set (≈ 150-byte entries), Buffer and string keys and values. */
  async 'entries-small'(p) {
    await writeSnapshot(datasetEntries('small', p.size), p.out, { codec: 'zstd', level: 1 });
  },
  async 'entries-small-string'(p) {
    await writeSnapshot(datasetEntries('small', p.size, true), p.out, { codec: 'zstd', level: 1 });
  },
  /** Compressed + trailer file → CrcVerifier → Decompressor → nothing (zstd or lz4 frames alike). */
  async 'read-bytes'(p) {
    await pipeline(read(p.raw), createCrcVerifier(), createDecompressor(), nullSink());
  },
  /** Snapshot file → readSnapshot (batch mode) → every entry consumed. */
  async 'read-entries'(p) {
    let n = 0;
    await pipeline(
      readSnapshot(p.raw, { batch: true }),
      new Writable({
        objectMode: true,
        write(batch: DecodedEntry[], _e, cb) {
          n += batch.length;
          cb();
        },
      }),
    );
    if (n === 0) throw new Error('no entries read');
  },
  /** The README's loop: `for await (const e of readSnapshot(file))`, one entry per iteration. */
  async 'read-entries-loop'(p) {
    let n = 0;
    for await (const e of readSnapshot(p.raw)) if (e.key) n++;
    if (n === 0) throw new Error('no entries read');
  },
};

/** Entry point of a child: `node cases.js NAME RAW OUT SIZE`. */
export async function runCase(name: string, paths: CasePaths): Promise<void> {
  // `heap:CASE` runs CASE in a process that already holds 3 M entries (bench/big-heap.ts).
  const bigHeap = name.startsWith('heap:');
  const fn = cases[bigHeap ? name.slice(5) : name];
  if (!fn) throw new Error(`unknown case ${name}`);
  if (bigHeap) {
    holdEntries();
    await settle();
  }
  const cpu0 = cpuSeconds();
  const start = performance.now();
  await fn(paths);
  const seconds = (performance.now() - start) / 1000;
  const maxRssMB = peakRssMB();
  const cpu1 = cpuSeconds();
  // CPU time of the case alone (all threads, and the main thread), for comparisons on a busy machine.
  const cpu = cpu0 && cpu1 ? { cpuSeconds: +(cpu1.process - cpu0.process).toFixed(2), mainCpuSeconds: +(cpu1.thread - cpu0.thread).toFixed(2) } : {};
  process.stdout.write(`${JSON.stringify({ seconds, maxRssMB, ...cpu })}\n`);
}

if (process.argv[1]?.endsWith('cases.js') && process.argv[2]) {
  const [, , name, raw, out, size] = process.argv;
  runCase(name!, { raw: raw!, out: out!, size: Number(size) }).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
