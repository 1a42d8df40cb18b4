/**
 * One-way mode: chunk frames from a Chunker (as objects, or as bytes through a Dechunker) piped
 * into a ChunkedReceiver install the file under its final name, byte for byte, with no partial
 * left behind; repeated and overlapping chunks are ignored, never written twice.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Chunker } from '../../lib/streams/chunker.js';
import { ChunkedReceiver } from '../../lib/sink/chunked-receiver.js';
import { Dechunker } from '../../lib/streams/dechunker.js';
import { type ChunkFrame } from '../../lib/format/chunk-frame.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0xb4b3375a);

const MiB = 1024 * 1024;
const data = randomBytes(3 * 4 * MiB + 4321);

async function framesOf(buf: Buffer): Promise<ChunkFrame[]> {
  const out: ChunkFrame[] = [];
  for await (const f of Readable.from([buf]).pipe(new Chunker({ chunkSize: 4 * MiB, objects: true }))) out.push(f as ChunkFrame);
  return out;
}

t.test('Chunker objects → ChunkedReceiver installs the file', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'snap');
  const receiver = new ChunkedReceiver({ path: file });
  let installed: unknown = null;
  receiver.on('installed', (e) => (installed = e));
  await pipeline(Readable.from([data]), new Chunker({ chunkSize: 4 * MiB, objects: true }), receiver);
  t.ok(fs.readFileSync(file).equals(data), 'the installed file equals the input');
  t.notOk(fs.existsSync(`${file}.partial`), 'no partial left');
  t.equal(receiver.installed, true);
  t.equal(receiver.offset, data.length);
  t.same(installed, { path: file, bytes: data.length });
});

t.test('frame bytes → Dechunker → ChunkedReceiver installs the file', async (t) => {
  const file = path.join(t.testdir(), 'snap');
  await pipeline(Readable.from([data]), new Chunker({ chunkSize: 4 * MiB }), new Dechunker({ objects: true }), new ChunkedReceiver({ path: file }));
  t.ok(fs.readFileSync(file).equals(data));
});

t.test('repeats and overlaps are ignored', async (t) => {
  const file = path.join(t.testdir(), 'snap');
  const [f0, f1, f2, f3, end] = (await framesOf(data)) as [ChunkFrame, ChunkFrame, ChunkFrame, ChunkFrame, ChunkFrame];
  // A chunk that overlaps what is written: bytes 2 MiB..6 MiB, arriving after chunk 0.
  const overlapData = data.subarray(2 * MiB, 6 * MiB);
  const overlap: ChunkFrame = { ...f0, seq: 99, offset: 2 * MiB, data: overlapData, crc32: (await framesOf(overlapData))[0]!.crc32 };
  const receiver = new ChunkedReceiver({ path: file });
  await new Promise((resolve) => receiver.once('ready', resolve));
  const outcomes: string[] = [];
  const written: number[] = [];
  receiver.on('progress', (p: { bytes: number }) => written.push(p.bytes));
  for (const f of [f0, f0, overlap, f1, f0, f1, f2, f3, f3, f1, end]) outcomes.push(await receiver.receive(f));
  t.same(outcomes, ['written', 'repeat', 'written', 'written', 'repeat', 'repeat', 'written', 'written', 'repeat', 'repeat', 'installed']);
  // The overlap wrote only its part beyond 4 MiB; chunk 1 then only what the overlap had not.
  t.same(written, [4 * MiB, 6 * MiB, 8 * MiB, 12 * MiB, data.length], 'each byte written once, in order');
  t.ok(fs.readFileSync(file).equals(data));
  t.equal(await receiver.receive(f0), 'repeat', 'after installing, everything is a repeat');
  receiver.destroy();
});

t.test('repeats through the Writable side are ignored too', async (t) => {
  const file = path.join(t.testdir(), 'snap');
  const frames = await framesOf(data);
  const end = frames.pop()!;
  await pipeline(Readable.from([...frames, ...frames, frames[1]!, end], { objectMode: true }), new ChunkedReceiver({ path: file }));
  t.ok(fs.readFileSync(file).equals(data));
});
