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
import { datasetEntries } from './datasets.js';
import { peakRssMB } from './peak-rss.js';

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
  /** The same stages composed by hand around fs streams (a copy per byte, a fresh buffer per read). */
  async 'bytes-zstd-fs'(p) {
    await pipeline(read(p.raw), createCompressor({ codec: 'zstd', level: 1 }), createCrcFooter(), fs.createWriteStream(p.out));
  },
  /** The same with 256 KiB reads: what smaller read buffers trade (less memory, more calls). */
  async 'bytes-zstd-fs-256k'(p) {
    await pipeline(read(p.raw, 256 * 1024), createCompressor({ codec: 'zstd', level: 1 }), createCrcFooter(), fs.createWriteStream(p.out));
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
  const fn = cases[name];
  if (!fn) throw new Error(`unknown case ${name}`);
  const start = performance.now();
  await fn(paths);
  const seconds = (performance.now() - start) / 1000;
  const maxRssMB = peakRssMB();
  process.stdout.write(`${JSON.stringify({ seconds, maxRssMB })}\n`);
}

if (process.argv[1]?.endsWith('cases.js') && process.argv[2]) {
  const [, , name, raw, out, size] = process.argv;
  runCase(name!, { raw: raw!, out: out!, size: Number(size) }).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
