/**
 * The writer of `decompress < FILE > OUT` gathers what it is given into writes of 256 KiB or more
 * (the Decompressor passes stored frames on as views of 128 KiB blocks, one system call apiece
 * before): the output is exact, every byte written by the end, and the ring is told of each view
 * only once it is written.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FdWriter, ReadRing, WRITE_BATCH } from '../../lib/cli/recycled-stdio.js';
import { randomBytesSeeded, testSeed } from '../fixtures/random.js';

const seed = testSeed(t, 0xfd3b47c);

t.test('views of 128 KiB and odd sizes: few system calls, the exact bytes', async (t) => {
  const sizes = [128 * 1024, 128 * 1024, 128 * 1024, 5, 128 * 1024, 77_777, 128 * 1024, 1];
  const data = randomBytesSeeded(sizes.reduce((a, b) => a + b), seed);
  const views: Buffer[] = [];
  for (let at = 0, i = 0; i < sizes.length; at += sizes[i++]!) views.push(data.subarray(at, at + sizes[i]!));
  const file = path.join(t.testdir(), 'out');
  const fd = fs.openSync(file, 'w');
  t.teardown(() => fs.closeSync(fd));

  const calls: number[] = [];
  const { writeSync, writevSync } = fs;
  (fs as { writeSync: unknown }).writeSync = (...a: Parameters<typeof fs.writeSync>) => {
    calls.push(-1);
    return (writeSync as (...x: unknown[]) => number)(...a);
  };
  (fs as { writevSync: unknown }).writevSync = (f: number, bufs: NodeJS.ArrayBufferView[], pos?: number) => {
    calls.push(bufs.length);
    return writevSync(f, bufs, pos);
  };
  const ring = new ReadRing();
  const writer = new FdWriter(fd, ring);
  try {
    await pipeline(Readable.from(views, { objectMode: false }), writer);
  } finally {
    (fs as { writeSync: unknown }).writeSync = writeSync;
    (fs as { writevSync: unknown }).writevSync = writevSync;
  }
  t.ok(fs.readFileSync(file).equals(data), 'the bytes, in order');
  t.equal(writer.bytes, data.length, 'every byte counted as written');
  t.notOk(calls.includes(-1), 'no write of a single chunk');
  t.ok(calls.length <= Math.ceil(data.length / WRITE_BATCH), `${calls.length} writev calls for ${views.length} chunks`);
  t.same(calls, [2, 3, 3], 'each call gathers chunks until 256 KiB, the rest at the end');
});

t.test('a stage that fails: what came through before it is still written', async (t) => {
  const file = path.join(t.testdir(), 'out');
  const fd = fs.openSync(file, 'w');
  t.teardown(() => fs.closeSync(fd));
  const writer = new FdWriter(fd, new ReadRing());
  const failing = new Readable({ read() {} });
  const done = pipeline(failing, writer);
  failing.push(Buffer.from('first '));
  failing.push(Buffer.from('second'));
  await new Promise<void>((resolve) => setImmediate(resolve));
  failing.destroy(Object.assign(new Error('damaged frame'), { code: 'SNAP_ERR_FORMAT' }));
  await t.rejects(done, { code: 'SNAP_ERR_FORMAT' });
  t.equal(fs.readFileSync(file, 'utf8'), 'first second');
});
