/**
 * The memory snapstream reuses — compressed frames the file sink hands back once written, file
 * chunks the parser hands back once parsed, blocks in shared memory that the worker threads use
 * in place — never changes what is written or read: a snapshot of many blocks, written and read
 * with every such buffer reused many times over, holds exactly its entries. And shared memory
 * stays inside: what snapstream hands its callers lies in ordinary ArrayBuffers (Web APIs such
 * as fetch and crypto.subtle refuse views of shared memory).
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import {
  Compressor,
  Decompressor,
  EntrySource,
  readSnapshot,
  verifySnapshot,
  writeSnapshot,
  type DecodedEntry,
  type Entry,
  type RawBlock,
} from '../../lib/index.js';
import { mulberry32 } from '../fixtures/random.js';

const run = promisify(execFile);
const KiB = 1024;

/** ~6 MiB of entries of uneven sizes, text and bytes, so frames and records vary in size. */
function entries(): Entry[] {
  const rand = mulberry32(7);
  const out: Entry[] = [];
  for (let i = 0, bytes = 0; bytes < 6 * 1024 * KiB; i++) {
    const size = Math.floor(rand() * rand() * 8 * KiB);
    const value = Buffer.alloc(size, i % 251);
    for (let j = 0; j < size; j += 64) value[j] = Math.floor(rand() * 256);
    out.push(i % 5 === 0 ? { key: `text-${i}`, value: value.toString('latin1') } : { key: Buffer.from(`key-${i}`), value });
    bytes += size + 20;
  }
  return out;
}

const sameBytes = (a: Buffer | string, b: Buffer | string): boolean =>
  typeof a === 'string' ? a === b : Buffer.isBuffer(b) && a.equals(b);

const dir = t.testdir();
const file = path.join(dir, 'many-blocks.snap');
const source = entries();

t.test('a snapshot of many blocks, frames and chunks recycled throughout, holds its entries', async (t) => {
  const summary = await writeSnapshot(source, file, { codec: 'zstd', blockSize: 64 * KiB, createdAt: 1 });
  t.ok(summary.blocks > 80, `${summary.blocks} blocks`);
  t.equal((await verifySnapshot(file)).footer.entriesTotal, source.length, 'verifySnapshot finds no damage');

  // The data frames are the encoded records, byte for byte (zstd -d skips snapstream's frames).
  const records: Buffer[] = [];
  for await (const block of new EntrySource(source, { blockSize: 64 * KiB })) records.push((block as RawBlock).data);
  const { stdout } = await run('zstd', ['-d', '-c', '-q', file], { encoding: 'buffer', maxBuffer: 64 * 1024 * KiB });
  t.ok(stdout.equals(Buffer.concat(records)), 'zstd -d gives the encoded records');

  let i = 0;
  let wrong = 0;
  for await (const batch of readSnapshot(file, { batch: true })) {
    for (const e of batch as DecodedEntry[]) {
      const want = source[i++]!;
      if (!sameBytes(want.key, e.key) || !sameBytes(want.value, e.value)) wrong++;
    }
  }
  t.equal(i, source.length, 'every entry read back');
  t.equal(wrong, 0, 'each equal to what was written');
});

t.test('what callers receive lies in ordinary ArrayBuffers', async (t) => {
  const isPlain = (b: Uint8Array): boolean => b.buffer instanceof ArrayBuffer;
  let plain = true;
  for await (const batch of readSnapshot(file, { batch: true })) {
    for (const e of batch as DecodedEntry[]) if (Buffer.isBuffer(e.value) && !isPlain(e.value)) plain = false;
  }
  t.ok(plain, 'readSnapshot values');
  for await (const e of readSnapshot(file, { copy: false })) {
    const { value } = e as DecodedEntry;
    if (typeof value === 'string') continue; // the text entries
    t.ok(isPlain(value), 'readSnapshot views (copy: false)');
    break;
  }
  const block = (await new EntrySource(source.slice(0, 10))[Symbol.asyncIterator]().next()).value as RawBlock;
  t.ok(isPlain(block.data), 'EntrySource blocks');

  const frames: Buffer[] = [];
  const raw = Buffer.concat(source.slice(0, 400).map((e) => Buffer.from(e.value as Buffer)));
  await pipeline(Readable.from([raw]), new Compressor({ codec: 'zstd', blockSize: 64 * KiB }), async function* (src) {
    for await (const f of src) frames.push(f as Buffer);
  });
  t.ok(frames.every(isPlain), 'Compressor frames');
  const decoded: Buffer[] = [];
  await pipeline(Readable.from(frames), new Decompressor(), async function* (src) {
    for await (const b of src) decoded.push(b as Buffer);
  });
  t.ok(decoded.every(isPlain), 'Decompressor output');
  t.ok(Buffer.concat(decoded).equals(raw), 'and it round-trips');
});

t.test('a missing file is an I/O error', async (t) => {
  const stream = readSnapshot(path.join(dir, 'nope.snap'));
  await t.rejects(stream.toArray(), { code: 'SNAP_ERR_IO' });
  t.notOk(fs.existsSync(path.join(dir, 'nope.snap')));
});
