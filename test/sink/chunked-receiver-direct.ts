/**
 * A ChunkedReceiver writes its partial with O_DIRECT by default: a frame is `taken` (copied into
 * the sink's staging) before it is `done` (in the partial), and `done` — what a server
 * acknowledges — never comes before the partial holds the frame, whatever the frame sizes (seeded).
 * `flush` puts everything taken into the partial. As a Writable it installs the same bytes.
 * `direct: false` writes through the page cache as before.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ChunkedReceiver } from '../../lib/sink/chunked-receiver.js';
import { CHUNK_DATA, CHUNK_END, type ChunkFrame } from '../../lib/format/chunk-frame.js';
import { crc32 } from '../../lib/format/crc32.js';
import { directIoWorks } from '../fixtures/direct-io.js';
import { mulberry32, seededRandomBytes, testSeed } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x0d12ec7);

function framesOf(data: Buffer, sizes: () => number): ChunkFrame[] {
  const frames: ChunkFrame[] = [];
  let seq = 0;
  for (let at = 0; at < data.length; ) {
    const n = Math.min(sizes(), data.length - at);
    const piece = data.subarray(at, at + n);
    frames.push({ type: CHUNK_DATA, seq: seq++, offset: at, length: n, crc32: crc32(piece), data: piece });
    at += n;
  }
  frames.push({ type: CHUNK_END, seq, offset: data.length, length: 0, crc32: crc32(data) });
  return frames;
}

function opened(receiver: ChunkedReceiver): Promise<void> {
  return new Promise((resolve, reject) => {
    receiver.once('ready', () => resolve());
    receiver.once('error', reject);
  });
}

t.test('done (what is acknowledged) only once the partial holds the frame; taken before it', async (t) => {
  const seed = testSeed(t, 0xacc);
  const random = mulberry32(seed);
  const data = randomBytes(24 * 1024 * 1024 + 4097);
  const sizes = (): number => (random() < 0.5 ? 1 + Math.floor(random() * 8192) : 1 + Math.floor(random() * 6 * 1024 * 1024));
  const dir = t.testdir();
  const file = path.join(dir, 'snap');
  const receiver = new ChunkedReceiver({ path: file });
  await opened(receiver);
  t.equal(receiver.writesDirect, directIoWorks(dir), 'the partial is written with O_DIRECT by default, where the file system takes it');
  let beyond = 0;
  let takenFirst = 0;
  const doneAll: Promise<unknown>[] = [];
  const frames = framesOf(data, sizes);
  for (const frame of frames.slice(0, -1)) {
    const end = frame.offset + frame.length;
    const { outcome, done, taken } = receiver.accept(frame);
    t.equal(outcome, 'written');
    let isTaken = false;
    void taken.then(() => (isTaken = true));
    doneAll.push(
      done.then(() => {
        if (isTaken) takenFirst++;
        if (fs.statSync(receiver.partialPath).size < end) beyond++;
        if (receiver.written < end || receiver.written > receiver.offset) beyond++;
      }),
    );
    // The way a server paces itself: a few frames waiting to be taken at most.
    await taken;
    if (random() < 0.3) await new Promise((resolve) => setImmediate(resolve));
  }
  await receiver.flush();
  t.equal(receiver.written, data.length, 'flush: the partial holds everything taken');
  t.equal(fs.statSync(receiver.partialPath).size, data.length);
  await Promise.all(doneAll);
  t.equal(beyond, 0, 'no frame was done before the partial held it');
  t.equal(takenFirst, frames.length - 1, 'every frame was taken before it was done');
  t.equal(await receiver.receive(frames.at(-1)!), 'installed');
  t.ok(fs.readFileSync(file).equals(data), 'installed, byte-identical');
});

t.test('a repeat is done at once; what acknowledges it, whenWritten, waits for the partial', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'snap');
  const receiver = new ChunkedReceiver({ path: file });
  await opened(receiver);
  const data = randomBytes(3 * 4096 + 10);
  const [frame] = framesOf(data, () => data.length);
  const { taken } = receiver.accept(frame!);
  await taken;
  // (Through the page cache, where the file system refuses O_DIRECT, taken is written.)
  if (directIoWorks(dir)) t.ok(receiver.written < receiver.offset, 'taken, still staged');
  const repeat = receiver.accept(frame!);
  t.equal(repeat.outcome, 'repeat');
  await repeat.done;
  await receiver.whenWritten(receiver.offset);
  t.ok(fs.statSync(receiver.partialPath).size >= data.length, 'whenWritten: the partial holds it');
  receiver.destroy();
});

t.test('as a Writable, direct and not, the same file', async (t) => {
  const seed = testSeed(t, 0x3417);
  const data = randomBytes(13 * 1024 * 1024 + 3);
  for (const direct of [true, false]) {
    const random = mulberry32(seed);
    const file = path.join(t.testdir(), `snap-${direct}`);
    const receiver = new ChunkedReceiver({ path: file, direct });
    const frames = framesOf(data, () => 1 + Math.floor(random() * 3 * 1024 * 1024));
    await pipeline(Readable.from(frames, { objectMode: true }), receiver);
    t.equal(receiver.installed, true);
    t.ok(fs.readFileSync(file).equals(data), `direct: ${direct}: byte-identical`);
  }
});

t.test('direct: false writes through the page cache: written at once', async (t) => {
  const file = path.join(t.testdir(), 'snap');
  const receiver = new ChunkedReceiver({ path: file, direct: false });
  await opened(receiver);
  t.equal(receiver.writesDirect, false);
  const data = randomBytes(10_000);
  const [frame] = framesOf(data, () => data.length);
  t.equal(await receiver.receive(frame!), 'written');
  t.equal(receiver.written, data.length);
  t.equal(fs.statSync(receiver.partialPath).size, data.length);
  receiver.destroy();
});
