/**
 * Compressor → CrcFooter: the trailer's CRC is that of the compressed bytes (the footer extends
 * its CRC from the frames' precomputed CRCs), the result verifies with CrcVerifier, and the
 * Decompressor reads it directly too, skipping the trailer as the skippable frame it is.
 */
import t from 'tap';
import { Compressor, CRC_TRAILER_SIZE, CrcFooter, CrcVerifier, crc32, Decompressor, type CodecName } from '../../lib/index.js';
import { cut, pipeBytes as run } from '../fixtures/pipe-through.js';
import { mulberry32, randomBytesSeeded, testSeed } from '../fixtures/random.js';

const seed = testSeed(t, 0xf007e2);
const rand = mulberry32(seed);

/** Compressible, not trivial: words with random bytes mixed in. */
function sample(size: number): Buffer {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'snapshot', 'raft', 'term', 'index'];
  const parts: Buffer[] = [];
  let n = 0;
  while (n < size) {
    const p = rand() < 0.2 ? randomBytesSeeded(16, Math.floor(rand() * 2 ** 32)) : Buffer.from(words[Math.floor(rand() * words.length)]! + ' ');
    parts.push(p);
    n += p.length;
  }
  return Buffer.concat(parts).subarray(0, size);
}

for (const codec of ['zstd', 'lz4', 'none'] as CodecName[]) {
  t.test(`codec ${codec}`, async (t) => {
    const data = sample(5 * 65536 + 123);
    const compressedOnly = await run(cut(data, 10_000), new Compressor({ codec, blockSize: 65536 }));
    const footer = new CrcFooter();
    const withTrailer = await run(cut(data, 10_000), new Compressor({ codec, blockSize: 65536 }), footer);

    const body = withTrailer.subarray(0, withTrailer.length - CRC_TRAILER_SIZE);
    t.equal(footer.length, body.length, 'footer counted the compressed bytes');
    t.equal(footer.crc, crc32(body), 'footer CRC equals a direct CRC of the compressed bytes');
    t.equal(withTrailer.readUInt32LE(withTrailer.length - 24), 0x184d2a5a, 'trailer is a skippable frame');
    t.equal(body.length, compressedOnly.length, 'same compressed size with and without the footer');

    const decompressed = await run(cut(withTrailer, 8192), new Decompressor());
    t.ok(decompressed.equals(data), 'the Decompressor reads it, skipping the trailer');

    const verified = await run(cut(withTrailer, 8192), new CrcVerifier(), new Decompressor());
    t.ok(verified.equals(data), 'CrcVerifier → Decompressor gives the data back');

    // A flipped byte in a compressed frame is caught by the verifier.
    const bad = Buffer.from(withTrailer);
    bad[Math.floor(body.length / 2)]! ^= 0x04;
    await t.rejects(run([bad], new CrcVerifier()), { code: 'SNAP_ERR_CHECKSUM' });
  });
}

t.test('an empty input still makes a valid stream with a trailer', async (t) => {
  const withTrailer = await run([], new Compressor(), new CrcFooter());
  t.ok(withTrailer.length > CRC_TRAILER_SIZE, 'one empty frame plus the trailer');
  const back = await run([withTrailer], new CrcVerifier(), new Decompressor());
  t.equal(back.length, 0);
});
