/**
 * When the end frame's whole-file CRC32 does not match what is on disk (here: a partial damaged
 * while the receiver was down), the ChunkedReceiver fails with a ChecksumError, discards the
 * partial (resuming it would only fail again) and installs nothing under the final name. The
 * next run then starts from zero and succeeds.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Chunker } from '../../lib/streams/chunker.js';
import { ChunkedReceiver } from '../../lib/sink/chunked-receiver.js';
import { ChecksumError } from '../../lib/errors.js';
import { crc32 } from '../../lib/format/crc32.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0xe24625f7);

const MiB = 1024 * 1024;
const data = randomBytes(3 * 4 * MiB + 10);

t.test('a damaged partial fails the end frame and is discarded', async (t) => {
  const file = path.join(t.testdir(), 'snap');
  const partial = Buffer.from(data.subarray(0, 5 * MiB));
  partial[4 * MiB + 17]! ^= 0x08;
  fs.writeFileSync(`${file}.partial`, partial);

  const receiver = new ChunkedReceiver({ path: file });
  const err = await pipeline(Readable.from([data]), new Chunker({ chunkSize: 4 * MiB, objects: true }), receiver).then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(err instanceof ChecksumError, 'a ChecksumError');
  t.match(err, { code: 'SNAP_ERR_CHECKSUM', expected: crc32(data) });
  t.notOk(fs.existsSync(file), 'nothing installed');
  t.notOk(fs.existsSync(`${file}.partial`), 'the partial is discarded');
  t.equal(receiver.installed, false);

  await pipeline(Readable.from([data]), new Chunker({ chunkSize: 4 * MiB, objects: true }), new ChunkedReceiver({ path: file }));
  t.ok(fs.readFileSync(file).equals(data), 'the next run starts afresh and installs the file');
});

t.test('an end frame with a wrong CRC fails the same way', async (t) => {
  const file = path.join(t.testdir(), 'snap');
  const receiver = new ChunkedReceiver({ path: file });
  await new Promise((resolve) => receiver.once('ready', resolve));
  const frames: { type: 1 | 2; seq: number; offset: number; length: number; crc32: number; data?: Buffer }[] = [];
  for await (const f of Readable.from([data]).pipe(new Chunker({ chunkSize: 4 * MiB, objects: true }))) frames.push(f);
  const end = frames.pop()!;
  for (const f of frames) t.equal(await receiver.receive(f), 'written');
  await t.rejects(receiver.receive({ ...end, crc32: (end.crc32 ^ 0x80000000) >>> 0 }), { code: 'SNAP_ERR_CHECKSUM' });
  t.notOk(fs.existsSync(file));
  t.notOk(fs.existsSync(`${file}.partial`));
  receiver.destroy();
});

t.test('an end frame that claims fewer bytes than were received is a FormatError', async (t) => {
  const file = path.join(t.testdir(), 'snap');
  const receiver = new ChunkedReceiver({ path: file });
  await new Promise((resolve) => receiver.once('ready', resolve));
  const frames: { type: 1 | 2; seq: number; offset: number; length: number; crc32: number; data?: Buffer }[] = [];
  for await (const f of Readable.from([data]).pipe(new Chunker({ chunkSize: 4 * MiB, objects: true }))) frames.push(f);
  const end = frames.pop()!;
  for (const f of frames) await receiver.receive(f);
  await t.rejects(receiver.receive({ ...end, offset: data.length - 1 }), { code: 'SNAP_ERR_FORMAT' });
  t.equal(await receiver.receive({ ...end, offset: data.length + 1 }), 'gap', 'more bytes than received: a gap, to be resent');
  t.notOk(fs.existsSync(file));
  receiver.destroy();
});
