/**
 * Chunker → Dechunker gives back exactly the bytes that went in, for an empty stream, one byte,
 * exactly one chunk, and several chunks plus a tail, whatever pieces the input arrives in; the
 * frames carry the seq, offset, length and CRC32 the format promises, and the end frame the
 * length and CRC32 of the whole stream.
 */
import t from 'tap';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CHUNK_DATA,
  CHUNK_END,
  CHUNK_HEADER_SIZE,
  Chunker,
  Dechunker,
  type ChunkFrame,
} from '../../lib/index.js';
import { crc32Portable } from '../../lib/format/crc32.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x12875277);

const MiB = 1024 * 1024;
const CHUNK = 4 * MiB;

/** Cuts `data` into pieces of pseudo-random sizes (1 B to 1.5 MiB), some of them empty-free. */
function pieces(data: Buffer, seed: number): Buffer[] {
  const out: Buffer[] = [];
  let x = seed;
  for (let at = 0; at < data.length; ) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const n = 1 + (x % (1.5 * MiB));
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}

async function collect(stream: NodeJS.ReadableStream): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const x of stream) out.push(x);
  return out;
}

async function roundTrip(data: Buffer, seed: number): Promise<{ frames: Buffer; back: Buffer }> {
  const frames = Buffer.concat((await collect(Readable.from(pieces(data, seed)).pipe(new Chunker({ chunkSize: CHUNK })))) as Buffer[]);
  const out: Buffer[] = [];
  // Feed the frame bytes in odd pieces too: headers and data split anywhere.
  await pipeline(
    Readable.from(pieces(frames, seed + 1)),
    new Dechunker(),
    new Writable({
      write(c: Buffer, _e, cb) {
        out.push(c);
        cb();
      },
    }),
  );
  return { frames, back: Buffer.concat(out) };
}

const sizes: [string, number][] = [
  ['empty', 0],
  ['one byte', 1],
  ['exactly one chunk', CHUNK],
  ['several chunks and a tail', 3 * CHUNK + 12_345],
];

for (const [name, size] of sizes) {
  t.test(`${name} (${size} bytes) round-trips`, async (t) => {
    const data = randomBytes(size);
    const { frames, back } = await roundTrip(data, size + 7);
    t.ok(back.equals(data), 'the same bytes come back');
    const chunks = Math.ceil(size / CHUNK);
    t.equal(frames.length, size + (chunks + 1) * CHUNK_HEADER_SIZE, `${chunks} data frames and one end frame`);
  });
}

t.test('object frames carry seq, offset, length and CRC32; the end frame the whole stream', async (t) => {
  const size = 2 * CHUNK + 1000;
  const data = randomBytes(size);
  const frames = (await collect(Readable.from(pieces(data, 3)).pipe(new Chunker({ chunkSize: CHUNK, objects: true })))) as ChunkFrame[];
  t.equal(frames.length, 4);
  const expected = [
    [0, 0, CHUNK],
    [1, CHUNK, CHUNK],
    [2, 2 * CHUNK, 1000],
  ];
  for (const [i, [seq, offset, length]] of expected.entries()) {
    const f = frames[i]!;
    t.match(f, { type: CHUNK_DATA, seq, offset, length }, `frame ${i}`);
    t.ok(f.data!.equals(data.subarray(offset!, offset! + length!)), `frame ${i} data`);
    t.equal(f.crc32, crc32Portable(f.data!, 0), `frame ${i} CRC32 (cross-checked with crc-32)`);
  }
  t.match(frames[3], { type: CHUNK_END, seq: 3, offset: size, length: 0, crc32: crc32Portable(data, 0) });
  t.equal(frames[3]!.data, undefined, 'the end frame has no data');
});

t.test('the chunk size can change between chunks', async (t) => {
  const data = randomBytes(4 * MiB + 8 * MiB + 5 * MiB + 3);
  const chunker = new Chunker({ chunkSize: 4 * MiB, objects: true });
  const lengths: number[] = [];
  chunker.on('data', (f: ChunkFrame) => {
    lengths.push(f.length);
    if (f.seq === 0) chunker.chunkSize = 8 * MiB;
    if (f.seq === 1) chunker.chunkSize = 5 * MiB;
  });
  const done = new Promise((resolve) => chunker.on('end', resolve));
  // Write in 1 MiB pieces so the size change takes effect before the next chunk fills.
  for (let at = 0; at < data.length; at += MiB) {
    if (!chunker.write(data.subarray(at, at + MiB))) await new Promise((r) => chunker.once('drain', r));
  }
  chunker.end();
  await done;
  t.same(lengths, [4 * MiB, 8 * MiB, 5 * MiB, 3, 0]);
  t.equal(chunker.offset, data.length, 'offset is the bytes framed');
  t.equal(chunker.crc, crc32Portable(data, 0), 'crc is the CRC32 of the bytes framed');
});
