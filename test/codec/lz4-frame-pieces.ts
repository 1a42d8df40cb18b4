/**
 * compressLz4Frame: a block over 256 KiB becomes one LZ4 frame of independent blocks of at most
 * 256 KiB (compressed, or stored where compressing does not help) that declares its content
 * size; `lz4 -d`, lz4-napi and the Decompressor all read it back. Up to 256 KiB the frame is
 * lz4-napi's own with the content size added, byte for byte as before.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { compressLz4Frame, withContentSize } from '../../lib/codec/lz4-frame.js';
import { parseFrameHeader } from '../../lib/codec/frame-format.js';
import { decompressInChunks, mulberry32, textWithNoise } from '../fixtures/random.js';

const run = promisify(execFile);
const lz4 = createRequire(import.meta.url)('lz4-napi') as {
  compressFrameSync(b: Buffer): Buffer;
  decompressFrameSync(b: Buffer): Buffer;
};
const KiB = 1024;

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'snapstream-lz4-pieces-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function random(size: number, seed: number): Buffer {
  const rand = mulberry32(seed);
  return Buffer.from(Array.from({ length: size }, () => Math.floor(rand() * 256)));
}

/** The size word of every data block of a frame whose header is `headerSize` bytes. */
function blockWords(frame: Buffer, headerSize: number): number[] {
  const words: number[] = [];
  for (let at = headerSize; ; ) {
    const word = frame.readUInt32LE(at);
    if (word === 0) break;
    words.push(word);
    at += 4 + (word & 0x7fff_ffff);
  }
  return words;
}

t.test('a 1 MiB + 3 B block: five 256 KiB-or-less blocks in one frame with its content size', async (t) => {
  // Text, random bytes (stored), text with noise, text, and 3 bytes (stored).
  const text = textWithNoise(256 * KiB, 1, 30);
  const data = Buffer.concat([text, random(256 * KiB, 2), textWithNoise(256 * KiB, 3, 12), text, Buffer.from('xyz')]);
  const frame = await compressLz4Frame(data);

  const header = parseFrameHeader(frame, 0, 0)!;
  t.equal(header.kind, 'lz4');
  t.equal(header.contentSize, data.length, 'declares its content size');
  t.equal(header.blockMaxSize, 256 * KiB, 'blocks of at most 256 KiB');
  t.ok(header.blockIndependent, 'independent blocks');
  t.notOk(header.contentChecksum || header.blockChecksum, 'no xxHash checksums');
  const words = blockWords(frame, header.headerSize);
  t.same(
    words.map((w) => w >>> 31),
    [0, 1, 0, 0, 1],
    'random and tiny pieces stored, the rest compressed',
  );
  t.equal(words[1]! & 0x7fff_ffff, 256 * KiB, 'a stored piece keeps its size');
  t.ok(frame.length < data.length, 'smaller than its content');

  const file = path.join(tmp, 'pieces.lz4');
  await fs.writeFile(file, frame);
  const { stdout } = await run('lz4', ['-d', '-c', '-q', file], { encoding: 'buffer', maxBuffer: 8 * 1024 * 1024 });
  t.ok(stdout.equals(data), 'lz4 -d gives back the block');
  t.ok(lz4.decompressFrameSync(frame).equals(data), 'lz4-napi gives back the block');
  t.ok((await decompressInChunks(frame, -100_000)).equals(data), 'the Decompressor gives back the block');
});

t.test('up to 256 KiB: lz4-napi’s own frame with the content size, as earlier versions wrote', async (t) => {
  for (const size of [0, 41, 64 * KiB, 256 * KiB]) {
    const data = textWithNoise(size, 4, 10);
    const frame = await compressLz4Frame(data);
    t.ok(frame.equals(withContentSize(lz4.compressFrameSync(data), size)), `${size} B`);
    t.ok(lz4.decompressFrameSync(frame).equals(data), `${size} B read back`);
  }
});
