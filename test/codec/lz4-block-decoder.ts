/**
 * LZ4 frames of independent blocks of at most 256 KiB (what snapstream writes) are decoded block
 * by block on the main thread (lib/codec/lz4-block-decoder.ts), not by lz4-napi's frame decoder
 * on libuv's pool threads, whose freed output stayed resident (≈ 200 MB reading 256 MiB of
 * half-random data): a byte-mode Decompressor emits each block as it is decoded, stored blocks as
 * views of the input; a block-mode one emits the block whole, in recycled memory. Frames of
 * another shape (lz4-napi's own, the stock tool's) decode as before, and a damaged block is a
 * typed error.
 */
import t from 'tap';
import { createRequire } from 'node:module';
import { compressLz4Frame } from '../../lib/codec/lz4-frame.js';
import { Decompressor } from '../../lib/streams/decompressor.js';
import { crc32 } from '../../lib/format/crc32.js';
import { mulberry32 } from '../fixtures/random.js';

const KiB = 1024;
const lz4 = createRequire(import.meta.url)('lz4-napi') as { compressFrameSync(b: Buffer): Buffer };

function random(size: number, seed: number): Buffer {
  const rand = mulberry32(seed);
  return Buffer.from(Array.from({ length: size }, () => Math.floor(rand() * 256)));
}
const text = (size: number, word: string): Buffer => Buffer.from(`${word} `.repeat(size).slice(0, size));

/** 1 MiB: text, random bytes, text, random bytes, 256 KiB each. */
const data = Buffer.concat([text(256 * KiB, 'alpha'), random(256 * KiB, 1), text(256 * KiB, 'beta'), random(256 * KiB, 2)]);

async function collect(d: Decompressor, input: unknown): Promise<unknown[]> {
  const out: unknown[] = [];
  d.on('data', (c: unknown) => out.push(c));
  const done = new Promise((resolve, reject) => d.on('end', resolve).on('error', reject));
  d.end(input);
  await done;
  return out;
}

t.test('byte mode: each block as it is decoded, stored blocks as views of the input', async (t) => {
  const frame = await compressLz4Frame(data);
  const input = Buffer.from(frame); // one chunk of its own
  const out = (await collect(new Decompressor(), input)) as Buffer[];
  t.same(out.map((b) => b.length), [256 * KiB, 256 * KiB, 256 * KiB, 256 * KiB], 'four blocks of 256 KiB');
  t.ok(Buffer.concat(out).equals(data), 'the content');
  t.ok(out[1]!.buffer === input.buffer && out[3]!.buffer === input.buffer, 'the stored blocks are views of the input');
  t.ok(out[0]!.buffer !== input.buffer, 'the compressed ones decoded');
});

t.test('block mode: the block whole, its CRC checked', async (t) => {
  const frame = await compressLz4Frame(data);
  const [block] = (await collect(new Decompressor({ blocks: true }), { frame, rawLength: data.length, crc: crc32(frame), seq: 7 })) as {
    data: Buffer;
    seq: number;
  }[];
  t.ok(block!.data.equals(data), 'the content');
  t.equal(block!.seq, 7, 'fields passed on');
  const wrongCrc = await collect(new Decompressor({ blocks: true }), { frame, rawLength: data.length, crc: crc32(frame) ^ 1 }).catch((e: unknown) => e);
  t.match(wrongCrc, { code: 'SNAP_ERR_CHECKSUM' });
  const wrongSize = await collect(new Decompressor({ blocks: true }), { frame, rawLength: data.length - 1 }).catch((e: unknown) => e);
  t.match(wrongSize, { code: /^SNAP_ERR_(FORMAT|LIMIT)$/ }, 'a size other than the header says');
});

t.test("frames of another shape decode as before: lz4-napi's own", async (t) => {
  const small = text(200 * KiB, 'gamma');
  const frame = lz4.compressFrameSync(small);
  const out = (await collect(new Decompressor(), frame)) as Buffer[];
  t.ok(Buffer.concat(out).equals(small));
});

t.test('a damaged compressed block is a typed error', async (t) => {
  const frame = Buffer.from(await compressLz4Frame(data));
  // The first block is compressed text: make its first token claim far more literals than there are.
  const headerSize = 15;
  frame[headerSize + 4] = 0xff;
  frame[headerSize + 5] = 0xff;
  frame[headerSize + 6] = 0xff;
  const err = await collect(new Decompressor(), frame).catch((e: unknown) => e);
  t.match(err, { code: /^SNAP_ERR_(CODEC|FORMAT)$/ });
});
