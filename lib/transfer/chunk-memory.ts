/**
 * Memory for the pieces of a file a transfer holds while they are in flight: a sender's chunks,
 * a receiver's base frames. Their lengths vary with every piece (a delta sends the stretches
 * between copied frames, from a block header of a hundred bytes to a whole chunk; frames vary
 * with what they compress to), and the free list (block-buffers.ts) reuses only buffers of the
 * very same size: at 64 KiB steps nearly every piece missed it, was allocated afresh and lay as
 * garbage until a full collection (a sender's peak RSS rose to 200 MB in a delta with uniform
 * updates). Capacities in powers of two give a few sizes that are reused piece after piece, for
 * at most twice the bytes in flight.
 */
import { allocBlock } from '../format/block-buffers.js';

/** Smallest capacity handed out. */
const MIN_CAPACITY = 64 * 1024;

/** The capacity a piece of `length` bytes gets: a power of two, at least 64 KiB. */
export function chunkCapacity(length: number): number {
  return length <= MIN_CAPACITY ? MIN_CAPACITY : 2 ** Math.ceil(Math.log2(length));
}

/**
 * `length` bytes (contents undefined) in owned memory of a power-of-two capacity; give the
 * memory back with `recycleBlock(buf.buffer)` once done.
 */
export function allocChunk(length: number): Buffer {
  return allocBlock(chunkCapacity(length)).subarray(0, length);
}

/** Bytes in each piece of a chunk ({@link chunkPieces}). */
export const CHUNK_PIECE = 1024 * 1024;

/**
 * Memory for a chunk of `length` bytes as pieces of CHUNK_PIECE bytes (the last one shorter),
 * each a buffer of its own of one of two capacities (64 KiB for a small chunk, else 1 MiB):
 * chunks of any length share them. Give each back with `recycleBlock(piece.buffer)`.
 */
export function chunkPieces(length: number): Buffer[] {
  if (length <= MIN_CAPACITY) return [allocBlock(MIN_CAPACITY).subarray(0, length)];
  const pieces: Buffer[] = [];
  for (let at = 0; at < length; at += CHUNK_PIECE) pieces.push(allocBlock(CHUNK_PIECE).subarray(0, Math.min(CHUNK_PIECE, length - at)));
  return pieces;
}
