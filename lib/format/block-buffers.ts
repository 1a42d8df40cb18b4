/**
 * The one free list of pooled memory, and the sizes its users take from it. Encoders fill
 * blocks, worker threads compress or decompress them and hand the memory back, a transfer reads
 * the pieces of a file it holds in flight; refilling memory instead of allocating a fresh
 * buffer each time keeps a process from carrying tens of megabytes of garbage buffers (in every
 * thread) between collections. Who may lend and give back pooled memory along a pipeline is
 * leases.ts.
 *
 * Only memory whose every holder has let go may be recycled: a buffer that was moved to a
 * worker thread (its old views are detached) and handed back from it, or shared memory whose
 * worker job has finished.
 *
 * `shared` memory (a SharedArrayBuffer) is used by the worker threads in place, never moved:
 * V8 counted each buffer moved back as new memory, so a writeSnapshot ran full collections
 * many times a run (with shared memory, about once) and used more CPU time. Only for
 * memory that stays inside snapstream: Web APIs (fetch, crypto.subtle) refuse shared views.
 *
 * Sizes: a buffer is reused only for a request of a size it can serve, so how a user rounds the
 * lengths it asks for decides how often memory comes back. Three rules, one per kind of user:
 * - blocks: exactly `size` (allocBlock), all of one size in a pipeline;
 * - staging for frames (allocStaging): 64 KiB steps, served by a free buffer up to twice as large;
 * - a transfer's pieces (allocChunk, chunkPieces): powers of two, or fixed 1 MiB pieces.
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
/** Staging and chunk capacities are multiples of this, and never smaller. */
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

/*
 * A transfer's pieces of a file in flight (a sender's chunks, a receiver's base frames) vary in
 * length with every piece: a delta sends the stretches between copied frames, from a block
 * header of a hundred bytes to a whole chunk, and frames vary with what they compress to. At
 * 64 KiB steps nearly every piece missed the free list, was allocated afresh and lay as garbage
 * until a full collection (a sender's peak RSS rose to 200 MB in a delta with uniform updates).
 * Capacities in powers of two give a few sizes that are reused piece after piece, for at most
 * twice the bytes in flight; a sender's chunks go further, as pieces of one capacity.
 */

/** The capacity a transfer's piece of `length` bytes gets: a power of two, at least 64 KiB. */
export function chunkCapacity(length: number): number {
  return length <= ROUND ? ROUND : 2 ** Math.ceil(Math.log2(length));
}

/**
 * `length` bytes (contents undefined) in owned memory of a power-of-two capacity (`shared`: a
 * SharedArrayBuffer, for a worker thread to fill); give the memory back with
 * `recycleBlock(buf.buffer)` once done.
 */
export function allocChunk(length: number, shared = false): Buffer {
  return allocBlock(chunkCapacity(length), shared).subarray(0, length);
}

/** Bytes in each piece of a chunk ({@link chunkPieces}). */
export const CHUNK_PIECE = 1024 * 1024;

/**
 * Memory for a chunk of `length` bytes as pieces of CHUNK_PIECE bytes (the last one shorter),
 * each a buffer of its own of one of two capacities (64 KiB for a small chunk, else 1 MiB):
 * chunks of any length share them. Give each back with `recycleBlock(piece.buffer)`.
 */
export function chunkPieces(length: number): Buffer[] {
  if (length <= ROUND) return [allocBlock(ROUND).subarray(0, length)];
  const pieces: Buffer[] = [];
  for (let at = 0; at < length; at += CHUNK_PIECE) pieces.push(allocBlock(CHUNK_PIECE).subarray(0, Math.min(CHUNK_PIECE, length - at)));
  return pieces;
}
