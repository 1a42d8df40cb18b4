/**
 * compressLz4Frame on data that does not compress: a 256 KiB piece whose probe (4 KiB from its
 * start, middle and end) does not compress is stored without handing the piece to lz4-napi,
 * whose output would be garbage the size of the input; pieces of mixed data are compressed as
 * ever. Either way `lz4 -d` and the Decompressor read the frame back.
 */
import t from 'tap';
import { rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { compressLz4Frame } from '../../lib/codec/lz4-frame.js';
import { halfRandomRecords, readsBack } from '../fixtures/incompressible.js';
import { randomBytesSeeded } from '../fixtures/random.js';

const KiB = 1024;
const lz4 = createRequire(import.meta.url)('lz4-napi') as { compress: (data: Uint8Array) => Promise<Buffer> };
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'snapstream-lz4-incompressible-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** Sizes of what lz4-napi's block compressor is given while `fn` runs. */
async function compressCalls(fn: () => Promise<Buffer>): Promise<{ frame: Buffer; sizes: number[] }> {
  const original = lz4.compress;
  const sizes: number[] = [];
  lz4.compress = (data) => {
    sizes.push(data.length);
    return original(data);
  };
  try {
    return { frame: await fn(), sizes };
  } finally {
    lz4.compress = original;
  }
}

t.test('random bytes: only the probes are compressed, every piece is stored', async (t) => {
  const data = randomBytesSeeded(1024 * KiB + 100, 1);
  const { frame, sizes } = await compressCalls(() => compressLz4Frame(data));
  t.same(sizes, [12 * KiB, 12 * KiB, 12 * KiB, 12 * KiB, 100], 'a 12 KiB probe per 256 KiB piece; the last 100 B tried whole');
  t.equal(frame.length, 15 + 5 * 4 + data.length + 4, 'header, five stored blocks, end mark');
  await readsBack(t, 'lz4', tmp, frame, data, 'random');
});

t.test('mixed data: probes compress, so the pieces are compressed', async (t) => {
  const data = halfRandomRecords(1024 * KiB, 2);
  const { frame, sizes } = await compressCalls(() => compressLz4Frame(data));
  t.same(
    sizes.filter((n) => n === 256 * KiB).length,
    4,
    'every piece compressed',
  );
  t.ok(frame.length < data.length * 0.75, `smaller (${frame.length} of ${data.length})`);
  await readsBack(t, 'lz4', tmp, frame, data, 'mixed');
});

t.test('a random piece with compressible bytes only outside its probe is stored (the probe decides)', async (t) => {
  const data = randomBytesSeeded(512 * KiB, 3);
  // Text between the probed places of the first piece (4–124 KiB): still random where probed.
  data.fill(0x61, 8 * KiB, 120 * KiB);
  const { frame } = await compressCalls(() => compressLz4Frame(data));
  t.equal(frame.length, 15 + 2 * 4 + data.length + 4, 'both pieces stored');
  await readsBack(t, 'lz4', tmp, frame, data, 'probe');
});
