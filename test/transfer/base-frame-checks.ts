/**
 * A delta receiver's base frames are read on a worker thread, each hashed there as it is read:
 * the CRC32 handed out with a frame's bytes is the CRC32 of those very bytes (damaged bytes give
 * theirs, not the one their block header promises), and a run cut short by the end of the file
 * marks the frames not whole in it.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { BaseFrames } from '../../lib/transfer/base-frames.js';
import { readChecked } from '../../lib/transfer/base-frame-checks.js';
import { readDataFrames } from '../../lib/transfer/data-frames.js';
import { crc32 } from '../../lib/format/crc32.js';
import { writeDeltaPair } from './fixtures/delta-snapshots.js';

t.test('each frame comes with the CRC32 of its bytes, computed as they were read', async (t) => {
  const dir = t.testdir({});
  const base = path.join(dir, 'base');
  await writeDeltaPair(base, path.join(dir, 'other'), 8000);
  const handle = await fs.promises.open(base, 'r');
  const frames = (await readDataFrames(handle, (await handle.stat()).size))!;
  await handle.close();
  // One frame rots on disk after its block header was indexed.
  const victim = frames[2]!;
  const index = await BaseFrames.build([base]);
  t.teardown(() => index.close());
  const fd = fs.openSync(base, 'r+');
  fs.writeSync(fd, Buffer.from([0xde, 0xad]), 0, 2, victim.offset + 7);
  fs.closeSync(fd);
  const bytes = fs.readFileSync(base);
  for (const f of frames.slice(0, 6)) {
    const digest = f.digest.toString('hex');
    const got = (await index.read(digest, index.find(digest)!))!;
    t.ok(got.equals(bytes.subarray(f.offset, f.offset + f.length)), `frame at ${f.offset}: its bytes`);
    t.equal(index.crcOf(got), crc32(got), 'and their CRC32');
    t.equal(index.crcOf(got) === f.crc, f !== victim, f === victim ? 'the rotten one does not match its header' : 'matching its header');
    index.release(got);
  }
  t.equal(index.crcOf(Buffer.from('not handed out')), undefined);
});

t.test('a run cut short by the end of the file', async (t) => {
  const dir = t.testdir({ f: Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff)) });
  const handle = await fs.promises.open(path.join(dir, 'f'), 'r');
  t.teardown(() => handle.close());
  const shared = new SharedArrayBuffer(2000);
  const read = (await readChecked(handle.fd, 100, 2000, shared, [[0, 300], [400, 500], [900, 300]]))!;
  t.equal(read.filled, 900, 'read up to the end of the file');
  const bytes = fs.readFileSync(path.join(dir, 'f'));
  t.same(read.crcs, [crc32(bytes.subarray(100, 400)), crc32(bytes.subarray(500, 1000)), -1], 'the last frame is not whole');
  t.ok(Buffer.from(shared, 0, 900).equals(bytes.subarray(100, 1000)), 'the bytes in the shared memory');
});
