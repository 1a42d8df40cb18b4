/**
 * Frames of stored blocks — what zstd and LZ4 make of data that does not compress, and codec
 * `none` — are read out without a decoder: the Decompressor passes their content on as views of
 * its input (no worker thread, no copy), checks the declared size, and still sends every frame
 * holding a compressed block, or a checksum, to the real decoder.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { compressBlock } from '../../lib/codec/block-codec.js';
import { storedZstdFrame } from '../../lib/codec/stored-zstd-frame.js';
import { Decompressor, FormatError, type CodecName } from '../../lib/index.js';
import { mulberry32, textWithNoise } from '../fixtures/random.js';

const KiB = 1024;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'snapstream-stored-frames-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

function random(size: number, seed: number): Buffer {
  const rand = mulberry32(seed);
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

/**
 * Runs `input` (one chunk per buffer) through a Decompressor; returns the output buffers as
 * pushed (a Writable sees each one; `read()` would join those buffered).
 */
async function decompress(input: Buffer[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      out.push(chunk);
      cb();
    },
  });
  await pipeline(Readable.from(input), new Decompressor(), sink);
  return out;
}

for (const codec of ['zstd', 'lz4', 'none'] as CodecName[]) {
  t.test(`${codec}: random bytes come out as views of the input frames`, async (t) => {
    const blocks = [random(1024 * KiB, 1), random(300 * KiB, 2), random(5, 3)];
    const frames = await Promise.all(blocks.map(async (b) => (await compressBlock(codec, 1, Buffer.from(b), false)).data));
    // Each frame in memory of its own, as a file reader hands it over.
    const input = frames.map((f) => Buffer.from(f));
    const out = await decompress(input);
    t.ok(Buffer.concat(out).equals(Buffer.concat(blocks)), 'the bytes');
    const memory = new Set<ArrayBufferLike>(input.map((f) => f.buffer));
    t.ok(
      out.every((b) => memory.has(b.buffer)),
      'every output buffer lies in an input frame: nothing decoded, nothing copied',
    );
  });
}

t.test('a frame of stored blocks split across many chunks', async (t) => {
  const data = random(700 * KiB, 4);
  const frame = storedZstdFrame(data);
  const input: Buffer[] = [];
  for (let at = 0; at < frame.length; at += 1000) input.push(Buffer.from(frame.subarray(at, at + 1000)));
  t.ok(Buffer.concat(await decompress(input)).equals(data));
});

t.test('an empty stored frame gives no bytes', async (t) => {
  t.equal(Buffer.concat(await decompress([storedZstdFrame(Buffer.alloc(0))])).length, 0);
});

t.test('a stored frame that declares more bytes than its blocks hold is a FormatError at its offset', async (t) => {
  const lead = storedZstdFrame(Buffer.from('first'));
  const frame = storedZstdFrame(random(200 * KiB, 5));
  // The 4-byte content size field (after magic and descriptor) one too big.
  frame.writeUInt32LE(200 * KiB + 1, 5);
  const err = await decompress([lead, frame]).then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(err instanceof FormatError, 'a FormatError');
  t.match(err, { code: 'SNAP_ERR_FORMAT', offset: lead.length, expected: 200 * KiB + 1, actual: 200 * KiB });
});

t.test('frames mixing stored and compressed blocks, and frames with a checksum, are decoded', async (t) => {
  // Runs of 64 KiB: zstd's 128 KiB blocks are half random, half text, some stored, some not.
  const mixed = textWithNoise(1024 * KiB, 6, 16);
  const zstdFrame = (await compressBlock('zstd', 1, Buffer.from(mixed), false)).data;
  const lz4Frame = (await compressBlock('lz4', 1, Buffer.from(mixed), false)).data;
  t.ok(Buffer.concat(await decompress([zstdFrame, lz4Frame])).equals(Buffer.concat([mixed, mixed])), 'mixed data');

  // Stock zstd writes raw blocks for random bytes, with a content checksum (checked: not stored).
  const data = random(512 * KiB, 7);
  const file = path.join(tmp, 'random.bin');
  fs.writeFileSync(file, data);
  const checked = execFileSync('zstd', ['-1', '-q', '-c', file]);
  const unchecked = execFileSync('zstd', ['-1', '-q', '--no-check', '-c', file]);
  t.ok(Buffer.concat(await decompress([checked])).equals(data), 'zstd -1 (content checksum)');
  t.ok(Buffer.concat(await decompress([unchecked])).equals(data), 'zstd -1 --no-check');
  const damaged = Buffer.from(checked);
  damaged[1000]! ^= 1; // inside a raw block: only the checksum can tell
  await t.rejects(decompress([damaged]), { code: 'SNAP_ERR_CODEC' }, 'a damaged raw block fails the checksum');
  const lz4File = execFileSync('lz4', ['-1', '-q', '-BD', '--content-size', '-c', file]);
  t.ok(Buffer.concat(await decompress([lz4File])).equals(data), 'lz4 -1 (content checksum)');
});
