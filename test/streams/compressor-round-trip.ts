/**
 * Compressor → Decompressor gives back exactly the input for every codec (zstd, lz4, none),
 * several block sizes and input sizes (0 bytes, 1 byte, exactly one block, blocks + 1, several
 * MiB), however the input is chunked. Each block becomes one independent standard frame that
 * the codec's own library decodes alone; `concurrency: 1` keeps the same output.
 */
import t from 'tap';
import { createRequire } from 'node:module';
import { Compressor, createCompressor, createDecompressor, Decompressor, type CodecName, type Progress } from '../../lib/index.js';
import { cut, pipeThrough as chunksOf } from '../fixtures/pipe-through.js';
import { mulberry32, randomBytesSeeded, testSeed } from '../fixtures/random.js';

const require = createRequire(import.meta.url);
const zstd = require('zstd-napi') as { decompress(b: Buffer): Buffer };
const lz4 = require('lz4-napi') as { decompressFrameSync(b: Buffer): Buffer };

const seed = testSeed(t, 0xc0de);
const rand = mulberry32(seed);

/** Semi-compressible data: runs of text and random bytes. */
const pool = Buffer.concat([
  Buffer.from('the quick brown fox jumps over the lazy dog; '.repeat(2000)),
  randomBytesSeeded(64 * 1024, seed),
  Buffer.from(JSON.stringify(Array.from({ length: 2000 }, (_, i) => ({ id: i, name: `user-${i}`, ok: i % 3 === 0 })))),
]);
function sample(size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let at = 0; at < size; ) {
    const from = Math.floor(rand() * pool.length);
    const n = Math.min(size - at, pool.length - from, 1 + Math.floor(rand() * 50_000));
    pool.copy(out, at, from, from + n);
    at += n;
  }
  return out;
}

function decodeFrameAlone(codec: CodecName, frame: Buffer): Buffer {
  return codec === 'lz4' ? lz4.decompressFrameSync(frame) : zstd.decompress(frame);
}

const KiB = 1024;
const MiB = 1024 * KiB;

for (const codec of ['zstd', 'lz4', 'none'] as CodecName[]) {
  t.test(`codec ${codec}`, async (t) => {
    for (const blockSize of [4 * KiB, 64 * KiB, MiB]) {
      const sizes = [0, 1, blockSize - 1, blockSize, blockSize + 1, 3 * blockSize + 1];
      if (blockSize === MiB) sizes.push(5 * MiB + 4321);
      for (const size of sizes) {
        const name = `blockSize ${blockSize}, ${size} bytes`;
        const data = sample(size);
        const frames = await chunksOf(cut(data, 100_000), new Compressor({ codec, blockSize }));
        const expectedFrames = Math.max(1, Math.ceil(size / blockSize));
        t.equal(frames.length, expectedFrames, `${name}: one frame per block`);
        // Each frame stands alone: the codec's own library decodes it to exactly one block.
        let at = 0;
        let alone = true;
        for (const f of frames) {
          const block = decodeFrameAlone(codec, f);
          if (!block.equals(data.subarray(at, at + blockSize))) alone = false;
          at += block.length;
        }
        t.ok(alone && at === size, `${name}: frames decode independently, in order`);
        const back = Buffer.concat(await chunksOf(cut(Buffer.concat(frames), 65_537), new Decompressor()));
        t.ok(back.equals(data), `${name}: Decompressor round trip`);
      }
    }
  });
}

t.test('input written in tiny and uneven chunks', async (t) => {
  const data = sample(200 * KiB + 17);
  for (const codec of ['zstd', 'lz4', 'none'] as CodecName[]) {
    const uneven: Buffer[] = [];
    for (let at = 0, i = 0; at < data.length; i++) {
      const n = [1, 3, 4095, 4096, 4097, 30_000][i % 6]!;
      uneven.push(data.subarray(at, at + n));
      at += n;
    }
    const frames = await chunksOf(uneven, createCompressor({ codec, blockSize: 16 * KiB }));
    t.equal(frames.length, Math.ceil(data.length / (16 * KiB)), `${codec}: frame count`);
    // Feed the compressed stream back one byte at a time for its first 2000 bytes, then in bulk.
    const compressed = Buffer.concat(frames);
    const pieces = [...cut(compressed.subarray(0, 2000), 1), compressed.subarray(2000)];
    const back = Buffer.concat(await chunksOf(pieces, createDecompressor()));
    t.ok(back.equals(data), `${codec}: round trip`);
  }
});

t.test('zstd levels', async (t) => {
  const data = sample(300 * KiB);
  const sizes: number[] = [];
  for (const level of [-7, 1, 3, 19]) {
    const frames = await chunksOf([data], new Compressor({ codec: 'zstd', level, blockSize: 64 * KiB }));
    const compressed = Buffer.concat(frames);
    sizes.push(compressed.length);
    t.ok(Buffer.concat(await chunksOf([compressed], new Decompressor())).equals(data), `level ${level}: round trip`);
  }
  t.ok(sizes[3]! < sizes[0]!, `level 19 smaller than level -7 (${sizes.join(', ')})`);
});

t.test('concurrency 1 gives the same frames in the same order', async (t) => {
  const data = sample(40 * 4 * KiB + 5);
  for (const codec of ['zstd', 'lz4', 'none'] as CodecName[]) {
    const serial = await chunksOf(cut(data, 5000), new Compressor({ codec, blockSize: 4 * KiB, concurrency: 1 }));
    const parallel = await chunksOf(cut(data, 5000), new Compressor({ codec, blockSize: 4 * KiB, concurrency: 8 }));
    t.equal(serial.length, 41, `${codec}: frame count`);
    t.ok(Buffer.concat(serial).equals(Buffer.concat(parallel)), `${codec}: identical bytes`);
    const back = Buffer.concat(await chunksOf([Buffer.concat(serial)], new Decompressor({ concurrency: 1 })));
    t.ok(back.equals(data), `${codec}: decompressor with concurrency 1`);
  }
});

t.test('a stream mixing zstd, lz4 and stored frames decodes in order', async (t) => {
  const a = sample(70 * KiB);
  const b = sample(10 * KiB);
  const c = sample(33 * KiB);
  const za = Buffer.concat(await chunksOf([a], new Compressor({ codec: 'zstd', blockSize: 16 * KiB })));
  const lb = Buffer.concat(await chunksOf([b], new Compressor({ codec: 'lz4', blockSize: 16 * KiB })));
  const nc = Buffer.concat(await chunksOf([c], new Compressor({ codec: 'none', blockSize: 16 * KiB })));
  const back = Buffer.concat(await chunksOf(cut(Buffer.concat([za, lb, nc]), 3000), new Decompressor()));
  t.ok(back.equals(Buffer.concat([a, b, c])), 'zstd ‖ lz4 ‖ stored frames decode in order');
});

t.test('progress events count input bytes', async (t) => {
  const data = sample(100 * KiB);
  const compressor = new Compressor({ blockSize: 16 * KiB });
  const seen: number[] = [];
  let last: Progress | undefined;
  compressor.on('progress', (p: Progress) => {
    seen.push(p.bytes);
    last = p;
  });
  const out = Buffer.concat(await chunksOf([data], compressor));
  t.equal(seen.at(-1), data.length, 'last progress reports every input byte');
  t.ok(seen.every((v, i) => i === 0 || v > seen[i - 1]!), 'progress only grows');
  // The Progress type names every field the Compressor emits.
  const keys: (keyof Progress)[] = ['bytes', 'entries', 'compressedBytes'];
  t.same(Object.keys(last!).sort(), keys.sort(), 'the fields Progress declares');
  t.equal(last!.compressedBytes, out.length, 'compressedBytes counts every output byte');
});
