/**
 * decompressFrame hashes the frame on the worker (the result's `crc`, which block mode checks
 * against the block header and uses to tell damage from a codec failure) unless the caller says
 * nothing checks it: the byte-mode Decompressor, behind a CrcVerifier that covers every byte,
 * does not have each frame hashed a second time. The data comes back the same either way.
 */
import t from 'tap';
import { compressBlock, decompressFrame } from '../../lib/codec/block-codec.js';
import { crc32 } from '../../lib/format/crc32.js';

const text = Buffer.from(Array.from({ length: 20000 }, (_, i) => `line ${i} of a text that compresses\n`).join(''));

t.test('the frame CRC is computed when asked for (the default), and only then', async (t) => {
  const { data: frame } = await compressBlock('zstd', 1, text, false);
  t.ok(frame.length < text.length / 2, 'a compressed frame');
  const checked = await decompressFrame('zstd', frame, text.length, false, 0);
  t.ok(checked.data.equals(text), 'data, CRC asked for');
  t.equal(checked.crc, crc32(frame), 'the CRC of the frame');
  const unchecked = await decompressFrame('zstd', frame, text.length, false, 0, false);
  t.ok(unchecked.data.equals(text), 'data, no CRC asked for');
  t.equal(unchecked.crc, 0, 'no CRC computed');
});

t.test('a frame that fails to decode still fails without its CRC computed', async (t) => {
  const { data: frame } = await compressBlock('zstd', 1, text, false);
  const damaged = Buffer.from(frame);
  damaged.fill(0x55, 20, 60);
  await t.rejects(decompressFrame('zstd', damaged, text.length, false, 0, false), { code: 'SNAP_ERR_CODEC' });
});
