/**
 * LZ4 frames through lz4-napi (async, on libuv's thread pool, so several run at once), with the
 * content size written into each frame header so a reader knows a frame's size before decoding.
 *
 * Blocks over 256 KiB are compressed as independent 256 KiB pieces (lz4-napi's block API, all
 * at once) and put in one frame here. lz4-napi allocates its output and scratch with its own
 * allocator (mimalloc) on the pool's threads; for whole 1 MiB blocks those threads kept ≈ 80 MB
 * of freed memory resident, for 256 KiB pieces they do not. The output is ≈ 1.3% larger than `lz4 -1`'s (npm run bench prints both ratios).
 */
import { createRequire } from 'node:module';
import type * as Lz4Napi from 'lz4-napi';
import { LZ4_MAGIC } from './frame-format.js';
import { xxhash32 } from './xxhash32.js';

const FLG_CONTENT_SIZE = 0x08;
/** FLG of an assembled frame: version 01, independent blocks, content size; no checksums. */
const FLG_PIECES = 0x68;
/** BD of an assembled frame: blocks of at most 256 KiB. */
const BD_PIECES = 0x50;
const PIECE = 256 * 1024;
/** High bit of a block's size word: the block is stored uncompressed. */
const STORED = 0x8000_0000;

/** Compresses `data` into one LZ4 frame that declares its content size. */
export async function compressLz4Frame(data: Uint8Array): Promise<Buffer> {
  const lz4 = lz4Napi();
  // Up to 256 KiB: one lz4-napi frame, byte for byte what earlier versions wrote.
  if (data.length <= PIECE) return withContentSize(await lz4.compressFrame(data), data.length);
  const jobs: Promise<Buffer>[] = [];
  for (let at = 0; at < data.length; at += PIECE) jobs.push(lz4.compress(data.subarray(at, at + PIECE)));
  // Each result is a 4-byte size, then the raw LZ4 block.
  return framePieces(data, (await Promise.all(jobs)).map((b) => b.subarray(4)));
}

/**
 * One frame of `data` from its 256 KiB pieces compressed one by one; a piece whose compressed
 * form is no smaller is stored as it is (as `lz4` does).
 */
function framePieces(data: Uint8Array, packed: Buffer[]): Buffer {
  let length = 15 + 4; // header, end mark
  const blocks = packed.map((bytes, i) => {
    const raw = data.subarray(i * PIECE, (i + 1) * PIECE);
    const stored = bytes.length >= raw.length;
    length += 4 + (stored ? raw.length : bytes.length);
    return stored ? { bytes: raw, word: raw.length | STORED } : { bytes, word: bytes.length };
  });
  const out = Buffer.allocUnsafe(length);
  out.writeUInt32LE(LZ4_MAGIC, 0);
  out[4] = FLG_PIECES;
  out[5] = BD_PIECES;
  out.writeUInt32LE(data.length % 0x1_0000_0000, 6);
  out.writeUInt32LE(Math.floor(data.length / 0x1_0000_0000), 10);
  out[14] = (xxhash32(out.subarray(4, 14)) >>> 8) & 0xff;
  let pos = 15;
  for (const { bytes, word } of blocks) {
    out.writeUInt32LE(word >>> 0, pos);
    out.set(bytes, pos + 4);
    pos += 4 + bytes.length;
  }
  out.writeUInt32LE(0, pos); // end mark
  return out;
}

/** Decodes one whole LZ4 frame. */
export function decompressLz4Frame(frame: Uint8Array): Promise<Buffer> {
  return lz4Napi().decompressFrame(frame);
}

/**
 * Rewrites a frame header (magic, FLG, BD, [dict id], HC) to carry `size` as its content size,
 * recomputing the header checksum. Frames that already carry one are returned as they are.
 */
export function withContentSize(frame: Buffer, size: number): Buffer {
  const flg = frame[4]!;
  if (flg & FLG_CONTENT_SIZE) return frame;
  const out = Buffer.allocUnsafe(frame.length + 8);
  frame.copy(out, 0, 0, 6);
  out[4] = flg | FLG_CONTENT_SIZE;
  out.writeUInt32LE(size % 0x1_0000_0000, 6);
  out.writeUInt32LE(Math.floor(size / 0x1_0000_0000), 10);
  // The rest of the descriptor (dict id, if any) follows the content size; then HC.
  const restEnd = 6 + (flg & 0x01 ? 4 : 0);
  frame.copy(out, 14, 6, restEnd);
  const hcAt = 14 + (restEnd - 6);
  out[hcAt] = (xxhash32(out.subarray(4, hcAt)) >>> 8) & 0xff;
  frame.copy(out, hcAt + 1, restEnd + 1);
  return out;
}

let binding: typeof Lz4Napi | null = null;

/** lz4-napi, loaded on first use: its native library adds 4–8 MB to a process that never uses LZ4. */
function lz4Napi(): typeof Lz4Napi {
  binding ??= createRequire(import.meta.url)('lz4-napi') as typeof Lz4Napi;
  return binding;
}
