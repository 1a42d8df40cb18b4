/**
 * Marks on buffers whose memory goes back to the free list (block-buffers.ts) once their last
 * reader is done with them. The stage that fills one marks it; the stage that uses it up —
 * writes it to a file, or copies out all it needs — and so holds the last reference, hands it
 * back with {@link recycleMarked}. Any other receiver just lets the collector have it.
 *
 * Without this, compressed frames and file chunks were garbage that often outlived a young
 * collection and then waited for a full one: tens of megabytes at a time.
 */
import { recycleBlock } from './block-buffers.js';

const recyclable = new WeakSet<ArrayBufferLike>();

/** Marks the whole memory under `bytes` (an allocBlock or allocStaging buffer) recyclable by its last reader. */
export function markRecyclable(bytes: Uint8Array): void {
  recyclable.add(bytes.buffer);
}

/** True when `bytes` lies in memory marked recyclable. */
export function isRecyclable(bytes: Uint8Array): boolean {
  return recyclable.has(bytes.buffer);
}

/** For the last reader of `bytes`: gives its memory back if it was marked recyclable. */
export function recycleMarked(bytes: Uint8Array): void {
  if (recyclable.delete(bytes.buffer)) recycleBlock(bytes.buffer);
}

/**
 * For a stage that takes `bytes` over whole (a Compressor handing a full block to a worker):
 * true when the memory was marked recyclable and exactly `bytes` spans all of it. The mark is
 * cleared; the taker now owns the memory and recycles it once done.
 */
export function claimRecyclable(bytes: Uint8Array): boolean {
  if (bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength) return false;
  return recyclable.delete(bytes.buffer);
}
