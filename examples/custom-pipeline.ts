// Custom pipelines from the stages: a cache checkpoint with expiry, composed by hand.
//   1. Map → EntryEncoder → Compressor (lz4, 256 KiB blocks) → CrcFooter → a file
//   2. the file → CrcVerifier → Decompressor → EntryDecoder (skipExpired) → a new Map
// Run: node --import ./node_modules/@tapjs/typescript/dist/esm/import.mjs examples/custom-pipeline.ts
// (or compile it with tsc); it prints what it did and exits non-zero if anything differs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  createCompressor,
  createCrcFooter,
  createCrcVerifier,
  createDecompressor,
  createEntryDecoder,
  createEntryEncoder,
  type DecodedEntry,
  type Entry,
} from 'snapstream';

const now = Date.now();
const cache = new Map<string, { value: string; expiresAt: number }>();
for (let i = 0; i < 50_000; i++) cache.set(`session:${i}`, { value: `user ${i % 977}`, expiresAt: now + (i % 3 === 0 ? -1000 : 60_000) });

const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'custom-pipeline-')), 'cache.lz4');

// Batches of entries cost one stream write each, not one per entry.
function* batches(): Generator<Entry[]> {
  let batch: Entry[] = [];
  for (const [key, { value, expiresAt }] of cache) {
    batch.push({ key, value, expiresAt });
    if (batch.length === 1000) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

await pipeline(
  Readable.from(batches()),
  createEntryEncoder(),
  createCompressor({ codec: 'lz4', blockSize: 256 * 1024 }),
  createCrcFooter(),
  fs.createWriteStream(file),
);

const restored = new Map<string, { value: string; expiresAt: number }>();
await pipeline(
  fs.createReadStream(file),
  createCrcVerifier(),
  createDecompressor(),
  createEntryDecoder({ skipExpired: true, now, batch: true }),
  new Writable({
    objectMode: true,
    write(batch: DecodedEntry[], _encoding, done) {
      for (const e of batch) restored.set(e.key as string, { value: e.value as string, expiresAt: e.expiresAt! });
      done();
    },
  }),
);

const live = [...cache].filter(([, v]) => v.expiresAt > now);
const same = live.length === restored.size && live.every(([k, v]) => restored.get(k)?.value === v.value && restored.get(k)?.expiresAt === v.expiresAt);
console.log(`wrote ${cache.size} entries (${fs.statSync(file).size} bytes, lz4); restored ${restored.size} live ones; ${same ? 'all equal' : 'MISMATCH'}`);
fs.rmSync(path.dirname(file), { recursive: true, force: true });
process.exitCode = same ? 0 : 1;
