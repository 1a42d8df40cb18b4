/**
 * As a Writable, a ChunkedReceiver fails on a chunk whose data does not match its CRC32
 * (SNAP_ERR_CHECKSUM, with the chunk's seq and offset) before writing a byte of it, on a chunk
 * beyond what it holds (SNAP_ERR_FORMAT), and on a stream that ends without its end frame
 * (SNAP_ERR_TRUNCATED); the partial keeps the good chunks for a later resume. Through
 * `receive()` the same chunks are reported ('bad', 'gap') instead, for protocols that ask again.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Chunker } from '../../lib/streams/chunker.js';
import { ChunkedReceiver } from '../../lib/sink/chunked-receiver.js';
import { type ChunkFrame } from '../../lib/format/chunk-frame.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0xf7bcace5);

const MiB = 1024 * 1024;
const data = randomBytes(3 * 4 * MiB + 5);

async function framesOf(buf: Buffer): Promise<ChunkFrame[]> {
  const out: ChunkFrame[] = [];
  for await (const f of Readable.from([buf]).pipe(new Chunker({ chunkSize: 4 * MiB, objects: true }))) out.push(f as ChunkFrame);
  return out;
}

const frames = await framesOf(data);

t.test('a damaged chunk fails the Writable with SNAP_ERR_CHECKSUM; good chunks before it stay', async (t) => {
  const file = path.join(t.testdir(), 'snap');
  const damaged = { ...frames[1]!, data: Buffer.from(frames[1]!.data!) };
  damaged.data[123_456]! ^= 0x40;
  await t.rejects(
    pipeline(Readable.from([frames[0]!, damaged, frames[2]!, frames[3]!, frames[4]!], { objectMode: true }), new ChunkedReceiver({ path: file })),
    { code: 'SNAP_ERR_CHECKSUM', seq: 1, offset: 4 * MiB },
  );
  t.equal(fs.statSync(`${file}.partial`).size, 4 * MiB, 'only chunk 0 written');
  t.notOk(fs.existsSync(file));
});

t.test('a chunk whose length disagrees with its data is bad too', async (t) => {
  const file = path.join(t.testdir(), 'snap');
  const receiver = new ChunkedReceiver({ path: file });
  await new Promise((resolve) => receiver.once('ready', resolve));
  t.equal(await receiver.receive({ ...frames[0]!, length: frames[0]!.length - 1 }), 'bad');
  const damaged = { ...frames[0]!, data: Buffer.from(frames[0]!.data!) };
  damaged.data[0]! ^= 1;
  t.equal(await receiver.receive(damaged), 'bad');
  t.equal(receiver.offset, 0, 'nothing written');
  t.equal(await receiver.receive(frames[2]!), 'gap', 'a chunk beyond the offset is a gap');
  t.equal(await receiver.receive(frames[0]!), 'written');
  receiver.destroy();
  await new Promise((resolve) => receiver.once('close', resolve));
  t.equal(fs.statSync(`${file}.partial`).size, 4 * MiB);
});

t.test('a gap fails the Writable with SNAP_ERR_FORMAT', async (t) => {
  const file = path.join(t.testdir(), 'snap');
  await t.rejects(
    pipeline(Readable.from([frames[0]!, frames[2]!], { objectMode: true }), new ChunkedReceiver({ path: file })),
    { code: 'SNAP_ERR_FORMAT', seq: 2, expected: 4 * MiB, actual: 8 * MiB },
  );
});

t.test('a stream without its end frame fails with SNAP_ERR_TRUNCATED and keeps the partial', async (t) => {
  const file = path.join(t.testdir(), 'snap');
  await t.rejects(
    pipeline(Readable.from(frames.slice(0, 4), { objectMode: true }), new ChunkedReceiver({ path: file })),
    { code: 'SNAP_ERR_TRUNCATED', offset: data.length },
  );
  t.equal(fs.statSync(`${file}.partial`).size, data.length);
  t.notOk(fs.existsSync(file));
});

t.test('a file growing past maxSize is a LimitError', async (t) => {
  const file = path.join(t.testdir(), 'snap');
  await t.rejects(
    pipeline(Readable.from(frames, { objectMode: true }), new ChunkedReceiver({ path: file, maxSize: 6 * MiB })),
    { code: 'SNAP_ERR_LIMIT' },
  );
  t.notOk(fs.existsSync(file));
});
