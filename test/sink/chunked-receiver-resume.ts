/**
 * A ChunkedReceiver started again on an existing partial reports the partial's size as its
 * `offset` and writes only what is missing: a one-way sender that starts again from byte 0 has
 * its chunks below the offset ignored, and the chunk that straddles it written only from the
 * offset on. The bytes already on disk are not rewritten — shown by a partial whose prefix
 * differs from the sender's but has the same CRC32: it survives into the installed file.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Chunker } from '../../lib/streams/chunker.js';
import { ChunkedReceiver } from '../../lib/sink/chunked-receiver.js';
import { type ChunkFrame } from '../../lib/format/chunk-frame.js';
import { crc32 } from '../../lib/format/crc32.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x4124878b);

const MiB = 1024 * 1024;
const data = randomBytes(5 * 4 * MiB + 999);

t.test('an interrupted one-way run leaves a partial; the next run resumes from its size', async (t) => {
  const file = path.join(t.testdir(), 'snap');
  // First run: the pipe breaks after two chunks (no end frame): a TruncatedError, partial kept.
  const frames: ChunkFrame[] = [];
  for await (const f of Readable.from([data]).pipe(new Chunker({ chunkSize: 4 * MiB, objects: true }))) frames.push(f as ChunkFrame);
  await t.rejects(pipeline(Readable.from(frames.slice(0, 2), { objectMode: true }), new ChunkedReceiver({ path: file })), {
    code: 'SNAP_ERR_TRUNCATED',
  });
  t.equal(fs.statSync(`${file}.partial`).size, 8 * MiB, 'the partial holds the two chunks received');
  t.notOk(fs.existsSync(file));

  // Cut it back to 5.5 MiB, as if the receiver died in the middle of writing chunk 1.
  const cut = 5.5 * MiB;
  fs.truncateSync(`${file}.partial`, cut);

  const second = new ChunkedReceiver({ path: file });
  const ready = new Promise<{ offset: number }>((resolve) => second.once('ready', resolve));
  const progress: number[] = [];
  second.on('progress', (p: { bytes: number }) => progress.push(p.bytes));
  const run = pipeline(Readable.from([data]), new Chunker({ chunkSize: 4 * MiB, objects: true }), second);
  t.same(await ready, { offset: cut }, 'ready reports the offset to resume from');
  await run;
  t.same(progress, [8 * MiB, 12 * MiB, 16 * MiB, 20 * MiB, data.length], 'written from 5.5 MiB on, nothing before');
  t.ok(fs.readFileSync(file).equals(data), 'the installed file equals the input');
  t.notOk(fs.existsSync(`${file}.partial`));
});

t.test('bytes already in the partial are not rewritten', async (t) => {
  const file = path.join(t.testdir(), 'snap');
  const prefixLength = 6 * MiB + 7;
  // A prefix that differs from the sender's at five bytes yet has the same CRC32 (the bits of
  // the CRC polynomial, x^32 + ... + 1, flipped anywhere leave the CRC unchanged).
  const prefix = Buffer.from(data.subarray(0, prefixLength));
  const poly = [0x41, 0x06, 0x71, 0xdb, 0x01];
  for (let i = 0; i < poly.length; i++) prefix[1000 + i]! ^= poly[i]!;
  t.equal(crc32(prefix), crc32(data.subarray(0, prefixLength)), 'same CRC32');
  t.notOk(prefix.equals(data.subarray(0, prefixLength)), 'different bytes');
  fs.writeFileSync(`${file}.partial`, prefix);

  const receiver = new ChunkedReceiver({ path: file });
  await pipeline(Readable.from([data]), new Chunker({ chunkSize: 4 * MiB, objects: true }), receiver);
  const installed = fs.readFileSync(file);
  t.equal(installed.length, data.length);
  t.ok(installed.subarray(0, prefixLength).equals(prefix), "the partial's bytes were kept, not rewritten");
  t.ok(installed.subarray(prefixLength).equals(data.subarray(prefixLength)), 'the rest came from the sender');
});

t.test('resume: false starts afresh', async (t) => {
  const file = path.join(t.testdir(), 'snap');
  fs.writeFileSync(`${file}.partial`, randomBytes(4 * MiB));
  const receiver = new ChunkedReceiver({ path: file, resume: false });
  const ready = new Promise<{ offset: number }>((resolve) => receiver.once('ready', resolve));
  const run = pipeline(Readable.from([data]), new Chunker({ chunkSize: 4 * MiB, objects: true }), receiver);
  t.same(await ready, { offset: 0 });
  await run;
  t.ok(fs.readFileSync(file).equals(data));
});
