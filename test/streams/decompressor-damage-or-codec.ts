/**
 * A frame that fails to decompress is judged by its CRC: if the CRC the sender gave does not
 * match, the frame is damaged (SNAP_ERR_CHECKSUM, corruption); if it matches, the codec failed
 * (SNAP_ERR_CODEC), which is no corruption — a store never moves a snapshot aside for it. Shown
 * with a frame moved to the worker (its CRC computed there) and one decoded in place (LZ4).
 */
import t from 'tap';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { compressBlock } from '../../lib/codec/block-codec.js';
import { crc32 } from '../../lib/format/crc32.js';
import { Leases, withLeases } from '../../lib/format/leases.js';
import { isCorruptionError } from '../../lib/index.js';
import { Decompressor } from '../../lib/streams/decompressor.js';
import { textWithNoise } from '../fixtures/random.js';

const raw = textWithNoise(200_000, 7, 5);

/** `owned`: the frame is lent along a recipe's pipeline, so the Decompressor moves it to a worker. */
async function decode(frame: Buffer, rawLength: number, crc: number, owned: boolean): Promise<unknown> {
  const leases = new Leases();
  if (owned) leases.lend(frame);
  try {
    await pipeline(
      Readable.from([{ frame, rawLength, crc }], { objectMode: true }),
      new Decompressor(withLeases({ blocks: true }, leases)),
      new Writable({ objectMode: true, write: (_b, _e, cb) => cb() }),
    );
  } catch (err) {
    return err;
  }
  return null;
}

/** A copy of `frame` in an ArrayBuffer of its own (so it may be moved to a worker). */
const own = (frame: Buffer): Buffer => Buffer.from(new Uint8Array(frame).slice().buffer);

for (const codec of ['zstd', 'lz4'] as const) {
  t.test(`${codec}: a frame that does not decode to its stated size`, async (t) => {
    const { data: frame } = await compressBlock(codec, 1, raw, false);
    const crc = crc32(frame);
    // The size the block header states is wrong: decoding fails whatever the bytes hold.
    // (A frame that declares another size than its block is refused before decoding: FORMAT.)
    const matching = await decode(own(frame), raw.length + 1, crc, true);
    t.match(matching, { code: /^SNAP_ERR_(CODEC|FORMAT)$/ }, 'CRC matches: not damage in the bytes');
    const damaged = await decode(own(frame), raw.length + 1, (crc ^ 1) >>> 0, true);
    t.match(damaged, { code: 'SNAP_ERR_CHECKSUM' }, 'CRC differs: the frame is damaged');
    t.ok(isCorruptionError(damaged));
  });
}

/** Offset of the first block header in a zstd frame (RFC 8878 §3.1.1.1). */
function firstBlockHeader(frame: Buffer): number {
  const fhd = frame[4]!;
  const single = (fhd >> 5) & 1;
  const fcs = fhd >> 6;
  return 5 + (single ? 0 : 1) + [0, 1, 2, 4][fhd & 3]! + (fcs === 0 ? single : [1, 2, 4, 8][fcs]!);
}

t.test('zstd: a frame the codec cannot decode, its CRC as written', async (t) => {
  const { data } = await compressBlock('zstd', 1, raw, false);
  const frame = Buffer.from(data);
  const at = firstBlockHeader(frame);
  frame[at] = frame[at]! | 0b110; // block type 3: reserved, which every decoder refuses
  const crc = crc32(frame);
  const matching = await decode(own(frame), raw.length, crc, true);
  t.match(matching, { code: 'SNAP_ERR_CODEC' }, 'CRC matches: not damage in the bytes');
  t.notOk(isCorruptionError(matching), 'a codec failure is not corruption');
  {
    const damaged = await decode(own(frame), raw.length, (crc ^ 1) >>> 0, true);
    t.match(damaged, { code: 'SNAP_ERR_CHECKSUM' }, 'CRC differs: the frame is damaged');
    t.ok(isCorruptionError(damaged));
  }
});
