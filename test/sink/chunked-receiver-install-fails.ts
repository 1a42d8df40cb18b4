/**
 * One-way receive: when a final step of the install fails (the final name is a non-empty
 * directory, the last fsync fails, the rename fails, the directory fsync fails), the receiver
 * fails with a typed error instead of reporting the file installed, emits no `installed`, and
 * keeps everything it received in the partial: a later receiver resumes at the end and only
 * needs the end frame.
 */
import t, { type Test } from 'tap';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Chunker } from '../../lib/streams/chunker.js';
import { ChunkedReceiver } from '../../lib/sink/chunked-receiver.js';
import { type ChunkFrame } from '../../lib/format/chunk-frame.js';
import { failSync } from '../fixtures/fail-sync.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x25e38e4a);

const MiB = 1024 * 1024;
const data = randomBytes(2 * 4 * MiB + 777);

async function framesOf(buf: Buffer): Promise<ChunkFrame[]> {
  const out: ChunkFrame[] = [];
  for await (const f of Readable.from([buf]).pipe(new Chunker({ chunkSize: 4 * MiB, objects: true }))) out.push(f as ChunkFrame);
  return out;
}

/** Runs the frames into a receiver; returns the error it failed with and whether it said `installed`. */
async function receiveAll(file: string): Promise<{ err: unknown; installedEvent: boolean; receiver: ChunkedReceiver }> {
  const receiver = new ChunkedReceiver({ path: file });
  let installedEvent = false;
  receiver.on('installed', () => (installedEvent = true));
  const err = await pipeline(Readable.from(await framesOf(data), { objectMode: true }), receiver).then(
    () => null,
    (e: unknown) => e,
  );
  return { err, installedEvent, receiver };
}

/** After the obstacle is gone, a new receiver resumes at the end: the end frame alone installs the file. */
async function resumesAtTheEnd(t: Test, file: string): Promise<void> {
  const receiver = new ChunkedReceiver({ path: file });
  const ready = await new Promise<{ offset: number }>((resolve) => receiver.once('ready', resolve));
  t.equal(ready.offset, data.length, 'the partial holds every byte received');
  const end = (await framesOf(data)).pop()!;
  t.equal(await receiver.receive(end), 'installed');
  t.ok(fs.readFileSync(file).equals(data), 'installed once the obstacle is gone');
  t.notOk(fs.existsSync(`${file}.partial`));
}

t.test('a non-empty directory at the final name: SNAP_ERR_IO, partial kept', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'snap');
  fs.mkdirSync(file);
  fs.writeFileSync(path.join(file, 'inside'), 'x');
  const { err, installedEvent, receiver } = await receiveAll(file);
  t.match(err, { code: 'SNAP_ERR_IO' }, 'the pipeline fails with a typed error');
  t.equal(installedEvent, false, 'no installed event');
  t.equal(receiver.installed, false);
  t.equal(fs.statSync(`${file}.partial`).size, data.length, 'the partial holds all the data');
  t.ok(fs.statSync(file).isDirectory(), 'the final name is untouched');
  fs.rmSync(file, { recursive: true });
  await resumesAtTheEnd(t, file);
});

t.test('the rename fails: SNAP_ERR_IO, partial kept', async (t) => {
  const file = path.join(t.testdir(), 'snap');
  const realRename = fsp.rename;
  fsp.rename = async (from, to) => {
    if (String(to) === file) throw Object.assign(new Error('EIO: i/o error, rename'), { code: 'EIO' });
    return realRename(from, to);
  };
  t.teardown(() => void (fsp.rename = realRename));
  const { err, installedEvent } = await receiveAll(file);
  fsp.rename = realRename;
  t.match(err, { code: 'SNAP_ERR_IO' });
  t.equal(installedEvent, false);
  t.notOk(fs.existsSync(file));
  await resumesAtTheEnd(t, file);
});

t.test('the final fsync of the file fails: SNAP_ERR_IO, partial kept', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'snap');
  const restore = await failSync(t, dir, false);
  const { err, installedEvent } = await receiveAll(file);
  restore();
  t.match(err, { code: 'SNAP_ERR_IO' });
  t.equal(installedEvent, false);
  t.notOk(fs.existsSync(file));
  await resumesAtTheEnd(t, file);
});

t.test('the directory fsync after the rename fails: SNAP_ERR_IO, the file goes back to the partial', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'snap');
  const restore = await failSync(t, dir, true);
  const { err, installedEvent } = await receiveAll(file);
  restore();
  t.match(err, { code: 'SNAP_ERR_IO' });
  t.equal(installedEvent, false);
  t.notOk(fs.existsSync(file), 'nothing unacknowledged under the final name');
  await resumesAtTheEnd(t, file);
});
