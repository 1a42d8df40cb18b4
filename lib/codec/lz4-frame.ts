/**
 * LZ4 frames through lz4-napi (async, on libuv's thread pool, so several run at once), with the
 * content size written into each frame header so a reader knows a frame's size before decoding.
 *
 * Blocks over 256 KiB are compressed as independent 256 KiB pieces (lz4-napi's block API, all
 * at once) and put in one frame here. lz4-napi allocates its output and scratch with its own
 * allocator (mimalloc) on the pool's threads; for whole 1 MiB blocks those threads kept tens of
 * megabytes of freed memory resident, for 256 KiB pieces they do not (docs/BENCHMARKS.md, "Why
 * the write side is built as it is"). The output is slightly larger than `lz4 -1`'s (npm run
 * bench prints both ratios).
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

/** Bytes of each of the three places of a piece that {@link incompressible} tries. */
const PROBE_SPOT = 4 * 1024;

/**
 * Compresses `data` into one LZ4 frame that declares its content size. `alloc` gives the memory
 * for a frame of more than one piece (recycled memory, say); by default a fresh buffer.
 */
export async function compressLz4Frame(data: Uint8Array, alloc: (length: number) => Buffer = Buffer.allocUnsafe): Promise<Buffer> {
  const lz4 = lz4Napi();
  // Up to 256 KiB: one lz4-napi frame, byte for byte what earlier versions wrote.
  if (data.length <= PIECE) return withContentSize(await lz4.compressFrame(data), data.length);
  const jobs: Promise<Buffer | null>[] = [];
  for (let at = 0; at < data.length; at += PIECE) jobs.push(compressPiece(data.subarray(at, at + PIECE)));
  return framePieces(data, await Promise.all(jobs), alloc);
}

/**
 * One 256 KiB piece as a raw LZ4 block, or null when it is to be stored as it is. A piece whose
 * probe does not compress is stored without compressing it: on data that does not compress
 * (already compressed or encrypted values) lz4-napi's output was garbage the size of the input
 * that V8 collected late (a compressFile of random bytes peaked far above the memory target),
 * and zeroing and copying it cost more CPU time than the compression itself.
 */
async function compressPiece(piece: Uint8Array): Promise<Buffer | null> {
  const lz4 = lz4Napi();
  if (piece.length >= 4 * PROBE_SPOT && (await incompressible(piece))) return null;
  // Each result is a 4-byte size, then the raw LZ4 block.
  const packed = (await lz4.compress(piece)).subarray(4);
  return packed.length >= piece.length ? null : packed;
}

/**
 * True when 4 KiB from the start, the middle and the end of `piece` together compress by less
 * than 1/32: random-looking bytes. Data mixing such bytes with text finely (values half random,
 * half text) compresses far better than that in every place and is compressed as ever.
 */
async function incompressible(piece: Uint8Array): Promise<boolean> {
  const probe = Buffer.allocUnsafe(3 * PROBE_SPOT);
  const mid = (piece.length - PROBE_SPOT) >>> 1;
  probe.set(piece.subarray(0, PROBE_SPOT), 0);
  probe.set(piece.subarray(mid, mid + PROBE_SPOT), PROBE_SPOT);
  probe.set(piece.subarray(piece.length - PROBE_SPOT), 2 * PROBE_SPOT);
  const packed = (await lz4Napi().compress(probe)).length - 4;
  return packed >= probe.length - probe.length / 32;
}

/**
 * One frame of `data` from its 256 KiB pieces compressed one by one; a piece whose compressed
 * form is no smaller (null) is stored as it is (as `lz4` does).
 */
function framePieces(data: Uint8Array, packed: (Buffer | null)[], alloc: (length: number) => Buffer): Buffer {
  let length = 15 + 4; // header, end mark
  const blocks = packed.map((bytes, i) => {
    const raw = data.subarray(i * PIECE, (i + 1) * PIECE);
    const stored = bytes === null;
    length += 4 + (stored ? raw.length : bytes.length);
    return stored ? { bytes: raw, word: raw.length | STORED } : { bytes, word: bytes.length };
  });
  const out = alloc(length);
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

/** lz4-napi, loaded on first use: its native library adds megabytes to a process that never uses LZ4. */
function lz4Napi(): typeof Lz4Napi {
  binding ??= createRequire(import.meta.url)('lz4-napi') as typeof Lz4Napi;
  return binding;
}
