/**
 * A small free list of block-sized ArrayBuffers. Encoders fill blocks, worker threads compress
 * or decompress them and hand the memory back; refilling it instead of allocating a fresh
 * buffer per block keeps a process from carrying tens of megabytes of garbage buffers (in every
 * thread) between collections.
 *
 * Only memory whose every holder has let go may be recycled: a buffer that was moved to a
 * worker thread (its old views are detached) and handed back from it, or shared memory whose
 * worker job has finished.
 *
 * `shared` memory (a SharedArrayBuffer) is used by the worker threads in place, never moved:
 * V8 counted each buffer moved back as new memory, so a writeSnapshot ran full collections
 * many times a run (with shared memory, about once) and used more CPU time. Only for
 * memory that stays inside snapstream: Web APIs (fetch, crypto.subtle) refuse shared views.
 */
import os from 'node:os';

// Enough for every block in flight in a writeSnapshot or compressFile pipeline (source,
// compressor, workers): three queued per worker thread (a thread per core) and two more, and
// never fewer than 8 — twice over per size, since a block and the frame it compresses to can
// be of one size: data that does not compress makes frames the size of their block (random
// 16 KiB values: blocks of 1,033,000 bytes, frames within the same 1 MiB), and with room for
// only one of them a writeSnapshot allocated most of its blocks afresh and peaked far above
// the memory target (docs/BENCHMARKS.md, "Why the write side is built as it is").
const CORES = Math.max(1, Math.min(os.availableParallelism?.() ?? os.cpus().length, 8));
const IN_FLIGHT = Math.max(8, CORES * 3 + 2);
const MAX_FREE_PER_SIZE = 2 * IN_FLIGHT;
const MAX_FREE_BYTES = IN_FLIGHT * 4 * 1024 * 1024;
const ROUND = 64 * 1024;
const free = new Map<number, ArrayBuffer[]>();
const freeShared = new Map<number, SharedArrayBuffer[]>();
let freeBytes = 0;
// Buffers too large for the free list above (a 64 MiB block is), kept only while a reader holds
// them (holdLargeBlocks): reused block after block inside its closed pipeline, dropped at its end
// so an idle process does not keep them. A fresh one per block lay as garbage until a full collection.
const MAX_LARGE = 2;
const LARGE = 4 * 1024 * 1024;
const freeLarge: ArrayBuffer[] = [];
let largeHolds = 0;

/** A buffer of exactly `size` bytes (contents undefined) whose memory the caller owns. */
export function allocBlock(size: number, shared = false): Buffer {
  let buffer: ArrayBufferLike | undefined = (shared ? freeShared : free).get(size)?.pop();
  if (!buffer && !shared) {
    const i = freeLarge.findIndex((b) => b.byteLength === size);
    if (i >= 0) return Buffer.from(freeLarge.splice(i, 1)[0]!, 0, size);
  }
  if (!buffer) return shared ? Buffer.from(new SharedArrayBuffer(size)) : Buffer.allocUnsafeSlow(size);
  freeBytes -= size;
  return Buffer.from(buffer, 0, size);
}

/**
 * `length` bytes in owned memory of a rounded-up capacity, so buffers for frames of similar
 * sizes can be reused for each other.
 */
export function allocStaging(length: number, shared = false): Buffer {
  const capacity = Math.max(ROUND, Math.ceil(length / ROUND) * ROUND);
  return allocBlock(freeFit(capacity, shared), shared).subarray(0, length);
}

/**
 * The capacity to take for a staging buffer of `capacity`: its own size when one is free, else
 * the smallest free one up to twice as large. Frames vary in size: with exact sizes only, a
 * read of a few hundred frames left one free buffer in each of some thirty sizes, never reused,
 * until the list held its full 32 MiB (docs/BENCHMARKS.md, "Reading entries and bytes").
 */
function freeFit(capacity: number, shared: boolean): number {
  const lists: Map<number, ArrayBufferLike[]> = shared ? freeShared : free;
  if ((lists.get(capacity)?.length ?? 0) > 0) return capacity;
  let best = capacity;
  for (const [size, list] of lists) if (list.length > 0 && size > capacity && size <= 2 * capacity && (best === capacity || size < best)) best = size;
  return best;
}

/** Gives memory back for reuse. The caller must hold the only reference to it. */
export function recycleBlock(buffer: ArrayBufferLike): void {
  const size = buffer.byteLength;
  if (size === 0) return; // detached
  if (freeBytes + size > MAX_FREE_BYTES) {
    // The list is full, or this is a large block: kept only while a reader holds large blocks.
    if (largeHolds > 0 && size > LARGE && buffer instanceof ArrayBuffer && freeLarge.length < MAX_LARGE && !freeLarge.includes(buffer)) freeLarge.push(buffer);
    return;
  }
  const lists: Map<number, ArrayBufferLike[]> = buffer instanceof SharedArrayBuffer ? freeShared : free;
  let list = lists.get(size);
  if (!list) lists.set(size, (list = []));
  if (list.length >= MAX_FREE_PER_SIZE) return;
  list.push(buffer);
  freeBytes += size;
}

/**
 * For a reader of large blocks: while held, a block too large for the free list is kept for
 * reuse (at most two) instead of left to the collector. Returns the release, to call once the
 * reader's pipeline has ended; the last release drops them.
 */
export function holdLargeBlocks(): () => void {
  largeHolds++;
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    if (--largeHolds === 0) freeLarge.length = 0;
  };
}
