/**
 * The zstd worker on data that does not compress: a block whose four probe spots (4 KiB each,
 * from its start to its end) do not compress is stored — a frame of raw blocks, the one
 * storedZstdFrame makes — without zstd run over all of it, in fresh memory and in the pooled
 * shared memory of a recipe's pipeline alike; a block of mixed data is compressed as ever. Stock
 * `zstd -d` and the Decompressor read every frame back.
 */
import t from 'tap';
import { rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { compressBlock } from '../../lib/codec/block-codec.js';
import { storedZstdFrame } from '../../lib/codec/stored-zstd-frame.js';
import { Leases } from '../../lib/format/leases.js';
import { halfRandomRecords, readsBack } from '../fixtures/incompressible.js';
import { randomBytesSeeded } from '../fixtures/random.js';

const KiB = 1024;
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'snapstream-zstd-incompressible-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

t.test('a block of random bytes is stored as a frame of raw blocks', async (t) => {
  const data = randomBytesSeeded(1024 * KiB, 1);
  const { data: frame } = await compressBlock('zstd', 1, Buffer.from(data), false);
  t.ok(frame.equals(storedZstdFrame(data)), 'the stored frame, not zstd’s own output for it');
  await readsBack(t, 'zstd', tmp, frame, data, 'random');
});

t.test('in the pooled shared memory of a recipe’s pipeline, the same frame', async (t) => {
  const data = randomBytesSeeded(1024 * KiB + 13, 2);
  const leases = new Leases();
  const { data: frame } = await compressBlock('zstd', 1, Buffer.from(data), false, leases);
  t.ok(frame.buffer instanceof SharedArrayBuffer, 'made in shared memory');
  t.ok(leases.isLent(frame), 'lent along the pipeline');
  t.ok(frame.equals(storedZstdFrame(data)), 'stored');
  await readsBack(t, 'zstd', tmp, Buffer.from(frame), data, 'random-shared');
});

t.test('a block of mixed data is compressed', async (t) => {
  const data = halfRandomRecords(1024 * KiB, 3);
  const { data: frame } = await compressBlock('zstd', 1, Buffer.from(data), false);
  t.ok(frame.length < data.length * 0.8, `compressed: ${frame.length} bytes of ${data.length}`);
  await readsBack(t, 'zstd', tmp, frame, data, 'mixed');
});

t.test('a block too small to probe goes to zstd, which reads it back the same', async (t) => {
  const data = randomBytesSeeded(32 * KiB, 4);
  const { data: frame } = await compressBlock('zstd', 1, Buffer.from(data), false);
  await readsBack(t, 'zstd', tmp, frame, data, 'small');
});
