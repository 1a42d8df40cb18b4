/**
 * The chunk size is validated, in the constructor and when changed mid-stream: an integer from
 * 4 MiB to 16 MiB inclusive; anything else is SNAP_ERR_INVALID_ARGUMENT and leaves the size as it was.
 * Lowered below what is already held, nothing is lost; `start` is validated like the Dechunker's.
 */
import t from 'tap';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Chunker } from '../../lib/streams/chunker.js';
import { Dechunker } from '../../lib/streams/dechunker.js';
import { CHUNK_DATA, encodeChunkHeader, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, type ChunkFrame } from '../../lib/format/chunk-frame.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x1c3ec921);

const MiB = 1024 * 1024;

t.equal(MIN_CHUNK_SIZE, 4 * MiB);
t.equal(MAX_CHUNK_SIZE, 16 * MiB);
t.equal(new Chunker().chunkSize, 4 * MiB, 'default 4 MiB');

for (const ok of [4 * MiB, 4 * MiB + 1, 10 * MiB, 16 * MiB]) {
  t.equal(new Chunker({ chunkSize: ok }).chunkSize, ok, `${ok} accepted`);
}

const bad: unknown[] = [0, -1, 4 * MiB - 1, 16 * MiB + 1, 4 * MiB + 0.5, NaN, Infinity, '4194304'];
for (const size of bad) {
  t.throws(() => new Chunker({ chunkSize: size as number }), { code: 'SNAP_ERR_INVALID_ARGUMENT' }, `constructor refuses ${String(size)}`);
  const c = new Chunker({ chunkSize: 5 * MiB });
  t.throws(() => {
    c.chunkSize = size as number;
  }, { code: 'SNAP_ERR_INVALID_ARGUMENT' }, `setter refuses ${String(size)}`);
  t.equal(c.chunkSize, 5 * MiB, 'the size is unchanged');
}

t.test('a start that is not { offset, seq, crc } of non-negative integers is refused, as by the Dechunker', async (t) => {
  const bad: unknown[] = [{ offset: -1, seq: 0, crc: 0 }, { offset: 0, seq: 1.5, crc: 0 }, { offset: 0, seq: 0, crc: 2 ** 32 }, { offset: '0', seq: 0, crc: 0 }, {}];
  for (const start of bad) {
    t.throws(() => new Chunker({ start: start as { offset: number; seq: number; crc: number } }), { code: 'SNAP_ERR_INVALID_ARGUMENT' }, JSON.stringify(start));
    t.throws(() => new Dechunker({ start: start as { offset: number; seq: number; crc: number } }), { code: 'SNAP_ERR_INVALID_ARGUMENT' }, `Dechunker: ${JSON.stringify(start)}`);
  }
  t.equal(new Chunker({ start: { offset: 10, seq: 2, crc: 0xffffffff } }).offset, 10);
});

t.test('lowering the size below what is held mid-chunk loses nothing', async (t) => {
  const data = randomBytes(12 * MiB);
  const c = new Chunker({ chunkSize: 8 * MiB, objects: true });
  const frames: ChunkFrame[] = [];
  c.on('data', (f: ChunkFrame) => frames.push(f));
  const done = new Promise((resolve) => c.on('end', resolve));
  c.write(data.subarray(0, 6 * MiB));
  c.chunkSize = 4 * MiB; // 6 MiB held, more than a chunk now
  c.end(data.subarray(6 * MiB));
  await done;
  const chunks = frames.filter((f) => f.type === CHUNK_DATA);
  t.same(chunks.map((f) => f.length), [6 * MiB, 4 * MiB, 2 * MiB], 'what was held goes out whole, then 4 MiB chunks');
  t.ok(Buffer.concat(chunks.map((f) => f.data!)).equals(data), 'every byte, in order');
  t.equal(frames.at(-1)!.offset, data.length, 'the end frame counts them all');
  // And a Dechunker accepts the stream.
  const back: Buffer[] = [];
  await pipeline(Readable.from(frames.map((f) => Buffer.concat([encodeChunkHeader(f), f.data ?? Buffer.alloc(0)]))), new Dechunker(), async function* (src) {
    for await (const b of src) back.push(b as Buffer);
  });
  t.ok(Buffer.concat(back).equals(data));
});
