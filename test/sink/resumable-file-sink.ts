/**
 * ResumableFileSink writes to `<path>.partial` and installs the final file only after a clean
 * end (`installed` event); `checkpoint` events report fsync'd offsets; `resumeAt` keeps the
 * first bytes of an existing partial and truncates the rest; an error mid-way leaves no final
 * file but keeps the partial.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createResumableFileSink, partialPathFor, ResumableFileSink } from '../../lib/index.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x97e89ff9);

function* pieces(data: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

t.test('partialPathFor', async (t) => {
  t.equal(partialPathFor('/x/y/snap.zst'), '/x/y/snap.zst.partial');
});

t.test('writes go to the partial; the final file appears only after end', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'out.bin');
  const partial = `${file}.partial`;
  const sink = new ResumableFileSink({ path: file });
  t.equal(sink.partialPath, partial);
  const first = randomBytes(10_000);
  await new Promise<void>((resolve, reject) => sink.write(first, (err) => (err ? reject(err) : resolve())));
  t.ok(fs.existsSync(partial), 'the partial exists while writing');
  t.notOk(fs.existsSync(file), 'no final file yet');
  t.ok(fs.readFileSync(partial).equals(first), 'the partial holds what was written');
  t.equal(sink.written, first.length);
  const second = randomBytes(5_000);
  const installed = new Promise<{ path: string; bytes: number }>((resolve) => sink.on('installed', resolve));
  sink.end(second);
  await new Promise((resolve) => sink.on('finish', resolve));
  t.same(await installed, { path: file, bytes: 15_000 }, 'installed event with path and size');
  t.ok(sink.installed);
  t.ok(fs.readFileSync(file).equals(Buffer.concat([first, second])), 'the final file holds every byte');
  t.notOk(fs.existsSync(partial), 'the partial is gone (renamed)');
  t.equal(sink.durable, 15_000, 'everything durable');
});

t.test('installed fires before the pipeline resolves; an empty stream installs an empty file', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'empty.bin');
  const sink = createResumableFileSink({ path: file });
  let installedSeen = false;
  sink.on('installed', () => (installedSeen = true));
  await pipeline(Readable.from([]), sink);
  t.ok(installedSeen);
  t.equal(fs.statSync(file).size, 0);
  t.same(fs.readdirSync(dir), ['empty.bin']);
});

t.test('checkpoint events: fsync offsets every syncEvery bytes, and at the end', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'cp.bin');
  const data = randomBytes(100_000);
  // A checkpoint follows a write, and writes come in batches of what the stream buffered: Node
  // 22 raised the default highWaterMark from 16 to 64 KiB, which batches six of these pieces.
  const sink = new ResumableFileSink({ path: file, syncEvery: 16_384, highWaterMark: 16_384 });
  const checkpoints: number[] = [];
  const durableAtCheckpoint: number[] = [];
  sink.on('checkpoint', (c: { offset: number }) => {
    checkpoints.push(c.offset);
    durableAtCheckpoint.push(sink.durable);
  });
  await pipeline(Readable.from(pieces(data, 10_000)), sink);
  t.ok(checkpoints.length >= 5, `${checkpoints.length} checkpoints`);
  t.ok(checkpoints.every((c, i) => i === 0 || c >= checkpoints[i - 1]!), 'offsets never go back');
  t.equal(checkpoints.at(-1), data.length, 'the last checkpoint is the whole file');
  t.same(durableAtCheckpoint, checkpoints, 'durable follows the checkpoints');
  // Between checkpoints at most syncEvery (+ one write) bytes.
  for (let i = 1; i < checkpoints.length; i++) t.ok(checkpoints[i]! - checkpoints[i - 1]! <= 16_384 + 10_000);
  t.ok(fs.readFileSync(file).equals(data));
});

t.test('checkpoints run beside the writes, but never fall a whole checkpoint behind', async (t) => {
  const dir = t.testdir();
  const probe = await fs.promises.open(path.join(dir, 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
  await probe.close();
  const realSync = proto.sync;
  // Each fsync takes 30 ms, far longer than a write.
  let inFlight = 0;
  let most = 0;
  proto.sync = async function (this: unknown) {
    most = Math.max(most, ++inFlight);
    await new Promise((resolve) => setTimeout(resolve, 30));
    inFlight--;
    return realSync.call(this);
  };
  t.teardown(() => void (proto.sync = realSync));
  const sink = new ResumableFileSink({ path: path.join(dir, 'slow'), syncEvery: 10_000 });
  const lag: number[] = [];
  sink.on('progress', () => lag.push(sink.written - sink.durable));
  const data = randomBytes(100_000);
  await pipeline(Readable.from(pieces(data, 5000)), sink);
  t.equal(most, 1, 'one fsync at a time');
  t.ok(lag.some((l) => l > 10_000), 'writing went on while an fsync ran');
  // Two checkpoints, plus what the stream held back meanwhile and then wrote in one go, twice.
  const bound = 2 * 10_000 + 2 * (sink.writableHighWaterMark + 5000);
  t.ok(Math.max(...lag) <= bound, `durable lagged ${Math.max(...lag)} bytes at most (≤ ${bound}, of ${data.length})`);
  t.equal(sink.durable, data.length);
});

t.test('a checkpoint that fails fails the stream, and installs nothing', async (t) => {
  const dir = t.testdir();
  const probe = await fs.promises.open(path.join(dir, 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
  await probe.close();
  const realSync = proto.sync;
  proto.sync = () => Promise.reject(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
  t.teardown(() => void (proto.sync = realSync));
  const file = path.join(dir, 'failing');
  const sink = new ResumableFileSink({ path: file, syncEvery: 10_000 });
  await t.rejects(pipeline(Readable.from(pieces(randomBytes(100_000), 5000)), sink), { code: 'SNAP_ERR_IO' });
  t.notOk(fs.existsSync(file), 'no final file');
  t.ok(sink.written < 100_000, `writing stopped after the failed checkpoint (${sink.written})`);
});

t.test('syncEvery 0: one checkpoint, at the end', async (t) => {
  const dir = t.testdir();
  const sink = new ResumableFileSink({ path: path.join(dir, 'a'), syncEvery: 0 });
  const checkpoints: number[] = [];
  sink.on('checkpoint', (c: { offset: number }) => checkpoints.push(c.offset));
  await pipeline(Readable.from(pieces(randomBytes(50_000), 1000)), sink);
  t.same(checkpoints, [50_000]);
});

t.test('resumeAt keeps the first bytes and truncates the rest', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'resume.bin');
  const partial = partialPathFor(file);
  const old = randomBytes(1000);
  fs.writeFileSync(partial, old);
  const tail = Buffer.from('new tail bytes');
  const sink = new ResumableFileSink({ path: file, resumeAt: 400 });
  t.equal(sink.written, 400, 'written starts at resumeAt');
  t.equal(sink.durable, 400);
  await pipeline(Readable.from([tail]), sink);
  const result = fs.readFileSync(file);
  t.equal(result.length, 400 + tail.length, 'old bytes after 400 were truncated');
  t.ok(result.subarray(0, 400).equals(old.subarray(0, 400)), 'the first 400 bytes kept');
  t.ok(result.subarray(400).equals(tail), 'then the new bytes');
  t.notOk(fs.existsSync(partial));
});

t.test('resumeAt with nothing new to write truncates and installs', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'r.bin');
  fs.writeFileSync(partialPathFor(file), Buffer.alloc(500, 1));
  await pipeline(Readable.from([]), new ResumableFileSink({ path: file, resumeAt: 123 }));
  t.equal(fs.statSync(file).size, 123);
});

t.test('resumeAt without a partial to resume is an IO error', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'missing.bin');
  await t.rejects(pipeline(Readable.from([Buffer.from('x')]), new ResumableFileSink({ path: file, resumeAt: 10 })), {
    code: 'SNAP_ERR_IO',
  });
  t.notOk(fs.existsSync(file));
});

t.test('an error mid-way leaves no final file and keeps the partial', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'failed.bin');
  const written: Buffer[] = [];
  const boom = new Error('source failed');
  async function* source(): AsyncGenerator<Buffer> {
    for (let i = 0; i < 5; i++) {
      const b = randomBytes(4096);
      written.push(b);
      yield b;
    }
    throw boom;
  }
  // Writes wait for the disk once a piece is buffered, so the sink has opened its partial and
  // written to it before the source fails (with Node 22's 64 KiB default, all five pieces are
  // buffered, and the source fails before the partial is even opened).
  const sink = new ResumableFileSink({ path: file, highWaterMark: 4096 });
  const err = await pipeline(source(), sink).then(
    () => null,
    (e: unknown) => e,
  );
  t.equal(err, boom, 'the source error, untouched');
  t.notOk(fs.existsSync(file), 'no final file');
  t.notOk(sink.installed);
  const partial = fs.readFileSync(partialPathFor(file));
  t.ok(partial.length <= 5 * 4096, 'the partial holds at most what was written');
  t.ok(partial.equals(Buffer.concat(written).subarray(0, partial.length)), 'and it is the prefix of the data');
  // The partial can be resumed where it stands.
  const sink2 = new ResumableFileSink({ path: file, resumeAt: partial.length });
  await pipeline(Readable.from([Buffer.from('rest')]), sink2);
  t.ok(fs.readFileSync(file).equals(Buffer.concat([partial, Buffer.from('rest')])), 'resumed and installed');
});

t.test('destroy mid-way leaves no final file and keeps the partial', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'destroyed.bin');
  const sink = new ResumableFileSink({ path: file });
  const data = randomBytes(8192);
  await new Promise<void>((resolve, reject) => sink.write(data, (err) => (err ? reject(err) : resolve())));
  sink.destroy();
  await new Promise((resolve) => sink.on('close', resolve));
  t.notOk(fs.existsSync(file));
  t.ok(fs.readFileSync(partialPathFor(file)).equals(data));
});

t.test('destroy during a write: close comes only after that write has landed', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'inflight.bin');
  const sink = new ResumableFileSink({ path: file });
  const first = Buffer.from('first');
  await new Promise<void>((resolve, reject) => sink.write(first, (err) => (err ? reject(err) : resolve())));
  const big = randomBytes(16 * 1024 * 1024);
  sink.write(big); // goes straight to the file: nothing else is being written
  sink.destroy(); // while that write is in flight
  await new Promise((resolve) => sink.on('close', resolve));
  const size = fs.statSync(partialPathFor(file)).size;
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(fs.statSync(partialPathFor(file)).size, size, 'the partial does not change after close');
  t.equal(size, first.length + big.length, 'the in-flight write landed before close');
  t.notOk(fs.existsSync(file));
});

t.test('an already-aborted signal: no partial is created, the write fails with AbortError', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'aborted.bin');
  const sink = new ResumableFileSink({ path: file, signal: AbortSignal.abort() });
  await t.rejects(pipeline(Readable.from([Buffer.from('x')]), sink), { code: 'ABORT_ERR' });
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.same(fs.readdirSync(dir), [], 'no partial, no final file');
});

t.test('aborted mid-way: AbortError, the partial stays, no final file', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'abort-mid.bin');
  const ac = new AbortController();
  const sink = new ResumableFileSink({ path: file, signal: ac.signal });
  let n = 0;
  sink.on('progress', () => ++n === 3 && ac.abort());
  const source = new Readable({
    read() {
      setImmediate(() => this.push(randomBytes(1024)));
    },
  });
  await t.rejects(pipeline(source, sink), { name: 'AbortError', code: 'ABORT_ERR' });
  await new Promise((resolve) => sink.closed ? resolve(null) : sink.on('close', resolve));
  t.notOk(fs.existsSync(file));
  t.ok(fs.statSync(partialPathFor(file)).size >= 3 * 1024, 'the partial holds what was written');
});

t.test('a custom partialPath', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'final.bin');
  const partial = path.join(dir, 'work-in-progress.tmp');
  const sink = new ResumableFileSink({ path: file, partialPath: partial });
  await new Promise<void>((resolve, reject) => sink.write(Buffer.from('abc'), (err) => (err ? reject(err) : resolve())));
  t.ok(fs.existsSync(partial));
  t.notOk(fs.existsSync(`${file}.partial`));
  sink.end();
  await new Promise((resolve) => sink.on('finish', resolve));
  t.equal(fs.readFileSync(file, 'utf8'), 'abc');
  t.notOk(fs.existsSync(partial));
});

t.test('an existing final file is replaced only at install time', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'replace.bin');
  fs.writeFileSync(file, 'old contents');
  const sink = new ResumableFileSink({ path: file });
  await new Promise<void>((resolve, reject) => sink.write(Buffer.from('new contents'), (err) => (err ? reject(err) : resolve())));
  t.equal(fs.readFileSync(file, 'utf8'), 'old contents', 'the old file stays whole while writing');
  sink.end();
  await new Promise((resolve) => sink.on('finish', resolve));
  t.equal(fs.readFileSync(file, 'utf8'), 'new contents');
});

t.test('bad options are InvalidArgumentErrors, and leave nothing behind', async (t) => {
  const dir = t.testdir();
  const x = path.join(dir, 'x');
  const bad = [{}, { path: '' }, { path: x, resumeAt: -1 }, { path: x, resumeAt: 1.5 }, { path: x, syncEvery: -5 }, { path: x, syncEvery: 0.5 }];
  for (const options of bad) {
    t.throws(() => new ResumableFileSink(options as never), { code: 'SNAP_ERR_INVALID_ARGUMENT' }, JSON.stringify(options));
  }
  // A refused sink must not go on to open (or create) its partial file, nor emit an error later.
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.same(fs.readdirSync(dir), [], 'no partial file was created');
});
