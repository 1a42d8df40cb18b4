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
 * V8 counted each buffer moved back as new memory, so a writeSnapshot ran a full collection
 * every ≈ 30 blocks (with shared memory, about once a run) and used ≈ 8% more CPU time. Only for
 * memory that stays inside snapstream: Web APIs (fetch, crypto.subtle) refuse shared views.
 */
import os from 'node:os';

// Enough for every block in flight in a writeSnapshot or compressFile pipeline (source,
// compressor, workers): three queued per worker thread (a thread per core) and two more, and
// never fewer than 8 — twice over per size, since a block and the frame it compresses to can
// be of one size: data that does not compress makes frames the size of their block (random
// 16 KiB values: blocks of 1,033,000 bytes, frames within the same 1 MiB), and with room for
// only one of them a writeSnapshot allocated 180 of its 256 blocks afresh and peaked at 275 MB.
const CORES = Math.max(1, Math.min(os.availableParallelism?.() ?? os.cpus().length, 8));
const IN_FLIGHT = Math.max(8, CORES * 3 + 2);
const MAX_FREE_PER_SIZE = 2 * IN_FLIGHT;
const MAX_FREE_BYTES = IN_FLIGHT * 4 * 1024 * 1024;
const ROUND = 64 * 1024;
const free = new Map<number, ArrayBuffer[]>();
const freeShared = new Map<number, SharedArrayBuffer[]>();
let freeBytes = 0;

/** A buffer of exactly `size` bytes (contents undefined) whose memory the caller owns. */
export function allocBlock(size: number, shared = false): Buffer {
  const buffer = (shared ? freeShared : free).get(size)?.pop();
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
  return allocBlock(capacity, shared).subarray(0, length);
}

/** Gives memory back for reuse. The caller must hold the only reference to it. */
export function recycleBlock(buffer: ArrayBufferLike): void {
  const size = buffer.byteLength;
  if (size === 0 || freeBytes + size > MAX_FREE_BYTES) return; // detached, or the list is full
  const lists: Map<number, ArrayBufferLike[]> = buffer instanceof SharedArrayBuffer ? freeShared : free;
  let list = lists.get(size);
  if (!list) lists.set(size, (list = []));
  if (list.length >= MAX_FREE_PER_SIZE) return;
  list.push(buffer);
  freeBytes += size;
}
