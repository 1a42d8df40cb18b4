/**
 * Codec `none`: the block is wrapped, uncompressed, in a standard zstd frame made of raw blocks
 * (RFC 8878 §3.1.1.2, Block_Type 0), so files written without compression are still read by
 * stock `zstd -d` and by any zstd library.
 */
import { copyInto } from '../format/copy-into.js';
import { crc32 } from '../format/crc32.js';
import { ZSTD_BLOCK_MAX, ZSTD_MAGIC } from './frame-format.js';

/** Size of the stored frame for `length` bytes of content. */
export function storedFrameSize(length: number): number {
  const blocks = Math.max(1, Math.ceil(length / ZSTD_BLOCK_MAX));
  return headerSize(length) + blocks * 3 + length;
}

function fcsSize(length: number): number {
  if (length < 256) return 1;
  if (length < 65536 + 256) return 2;
  if (length < 0x1_0000_0000) return 4;
  return 8;
}

function headerSize(length: number): number {
  return 4 + 1 + fcsSize(length);
}

/** Wraps `data` in a single-segment zstd frame of raw blocks, in memory from `alloc` (default: fresh). */
export function storedZstdFrame(data: Uint8Array, alloc: (length: number) => Buffer = Buffer.allocUnsafe): Buffer {
  return writeStoredFrame(data, alloc, false).frame;
}

/**
 * {@link storedZstdFrame} and the CRC32 of the frame, in one pass: each raw block is hashed right
 * after it is copied, while it is still in this core's cache (hashing the whole frame afterwards
 * reads it from memory again, at less than half the speed: docs/BENCHMARKS.md).
 */
export function storedZstdFrameWithCrc(data: Uint8Array, alloc: (length: number) => Buffer = Buffer.allocUnsafe): { frame: Buffer; crc: number } {
  return writeStoredFrame(data, alloc, true);
}

function writeStoredFrame(data: Uint8Array, alloc: (length: number) => Buffer, withCrc: boolean): { frame: Buffer; crc: number } {
  const length = data.length;
  const out = alloc(storedFrameSize(length));
  out.writeUInt32LE(ZSTD_MAGIC, 0);
  const fcs = fcsSize(length);
  // Frame header descriptor: Single_Segment_flag (0x20) and the content size field's width.
  const fcsFlag = { 1: 0, 2: 1, 4: 2, 8: 3 }[fcs]!;
  out[4] = 0x20 | (fcsFlag << 6);
  let at = 5;
  if (fcs === 1) out[at] = length;
  else if (fcs === 2) out.writeUInt16LE(length - 256, at);
  else if (fcs === 4) out.writeUInt32LE(length, at);
  else {
    out.writeUInt32LE(length % 0x1_0000_0000, at);
    out.writeUInt32LE(Math.floor(length / 0x1_0000_0000), at + 4);
  }
  at += fcs;
  let crc = 0;
  let hashed = 0;
  let from = 0;
  do {
    const size = Math.min(ZSTD_BLOCK_MAX, length - from);
    const last = from + size >= length ? 1 : 0;
    out.writeUIntLE((size << 3) | last, at, 3); // Block_Type 0 (raw) in bits 1-2
    at += 3;
    copyInto(out, data.subarray(from, from + size), at); // out may be shared memory (a worker's frame)
    at += size;
    from += size;
    if (withCrc) {
      crc = crc32(out.subarray(hashed, at), crc);
      hashed = at;
    }
  } while (from < length);
  return { frame: out, crc };
}
