/**
 * readFully keeps reading until the buffer is full or the file ends: a read that returns fewer
 * bytes than asked (as reads may, on network filesystems or after a signal) is continued, and
 * only the end of the file makes it short.
 */
import t from 'tap';
import fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { readFully } from '../../lib/sink/read-fully.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x98707708);

t.test('fills the buffer from a position; short only at the end of the file', async (t) => {
  const file = path.join(t.testdir(), 'data');
  const data = randomBytes(100_000);
  await fsp.writeFile(file, data);
  const handle = await fsp.open(file, 'r');
  t.teardown(() => handle.close());
  const buf = Buffer.alloc(30_000);
  t.equal(await readFully(handle, buf, 50_000), 30_000);
  t.ok(buf.equals(data.subarray(50_000, 80_000)));
  t.equal(await readFully(handle, buf, 90_000), 10_000, 'the last 10,000 bytes');
  t.ok(buf.subarray(0, 10_000).equals(data.subarray(90_000)));
  t.equal(await readFully(handle, buf, 100_000), 0, 'nothing past the end');
});

t.test('a handle that returns a few bytes per read is read on until full', async (t) => {
  const file = path.join(t.testdir(), 'data');
  const data = randomBytes(10_000);
  await fsp.writeFile(file, data);
  const real = await fsp.open(file, 'r');
  t.teardown(() => real.close());
  let calls = 0;
  // The real file, at most 777 bytes per read.
  const stingy = {
    read: (buffer: Uint8Array, offset: number, length: number, position: number) => {
      calls++;
      return real.read(buffer, offset, Math.min(length, 777), position);
    },
  } as unknown as FileHandle;
  const buf = Buffer.alloc(9000);
  t.equal(await readFully(stingy, buf, 500), 9000);
  t.ok(buf.equals(data.subarray(500, 9500)));
  t.equal(calls, Math.ceil(9000 / 777), 'one call per short read');
});
