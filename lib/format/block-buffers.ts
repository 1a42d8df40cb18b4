/**
 * A small free list of block-sized ArrayBuffers. Encoders fill blocks, worker threads compress
 * or decompress them and hand the memory back; refilling it instead of allocating a fresh
 * buffer per block keeps a process from carrying tens of megabytes of garbage buffers (in every
 * thread) between collections.
 *
 * Only memory whose every holder has let go may be recycled: a buffer that was moved to a
 * worker thread (its old views are detached) and handed back from it.
 */
// Enough for every block in flight in a writeSnapshot pipeline (source, compressor, workers).
const MAX_FREE_PER_SIZE = 8;
const MAX_FREE_BYTES = 32 * 1024 * 1024;
const ROUND = 64 * 1024;
const free = new Map<number, ArrayBuffer[]>();
let freeBytes = 0;

/** A buffer of exactly `size` bytes (contents undefined) whose memory the caller owns. */
export function allocBlock(size: number): Buffer {
  const buffer = free.get(size)?.pop();
  if (!buffer) return Buffer.allocUnsafeSlow(size);
  freeBytes -= size;
  return Buffer.from(buffer, 0, size);
}

/**
 * `length` bytes in owned memory of a rounded-up capacity, so buffers for frames of similar
 * sizes can be reused for each other.
 */
export function allocStaging(length: number): Buffer {
  const capacity = Math.max(ROUND, Math.ceil(length / ROUND) * ROUND);
  return allocBlock(capacity).subarray(0, length);
}

/** Gives memory back for reuse. The caller must hold the only reference to it. */
export function recycleBlock(buffer: ArrayBuffer): void {
  const size = buffer.byteLength;
  if (size === 0 || freeBytes + size > MAX_FREE_BYTES) return; // detached, or the list is full
  let list = free.get(size);
  if (!list) free.set(size, (list = []));
  if (list.length >= MAX_FREE_PER_SIZE) return;
  list.push(buffer);
  freeBytes += size;
}
