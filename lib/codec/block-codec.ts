/**
 * One block in, one independent standard frame out (and back), for every codec. Each call is
 * asynchronous and runs off the main thread where the codec allows, so callers keep several in
 * flight to use every core.
 */
import { CodecError, FormatError } from '../errors.js';
import { allocStaging, recycleBlock } from '../format/block-buffers.js';
import type { Leases } from '../format/leases.js';
import { crc32 } from '../format/crc32.js';
import { FRAME_DIGEST_BYTES, frameDigest } from '../format/frame-digest.js';
import { webcrypto } from 'node:crypto';
import type { CodecName } from './codec.js';
import { decodeLz4Frame } from './lz4-block-decoder.js';
import { compressLz4Frame } from './lz4-frame.js';
import { compressSmallHere, PROBE_MIN_BLOCK, probeHere } from './stored-probe.js';
import { storedZstdFrameWithCrc } from './stored-zstd-frame.js';
import { decompressHere, MAX_HERE } from './zstd-here.js';
import { sharedPool, WorkerFailure, type FrameResult } from './worker-pool.js';

/**
 * Compresses one block. `owned`: the caller gives up `data` and the whole ArrayBuffer under it
 * (its own allocation, never Node's shared pool), which is then moved to a worker thread
 * instead of copied (or, in shared memory, used there), and afterwards reused for other blocks.
 * `frames`: the frame is made in pooled memory (shared, for zstd's worker threads) and lent
 * along the caller's closed pipeline, whose last reader (a file sink) gives it back.
 * `digest`: the result carries the frame's digest (lib/format/frame-digest.ts), computed off the
 * main thread: in the zstd worker that made the frame, on libuv's pool for the others.
 * `frameCapacity`: pooled zstd frames get room for a block of at least this many bytes, so that
 * blocks of varying sizes (content-defined) share one size of pooled buffer instead of each size
 * missing the pool and allocating afresh.
 * `probe` (zstd): while no worker thread runs, the block is probed here first
 * (lib/codec/stored-probe.ts), and one that does not compress is stored on this thread, copied
 * and hashed in one pass: none is started while every block is stored. A block that compresses
 * goes to a worker that need not probe it again. `'last'`: the last block of a stream, which
 * when too small to probe is compressed here if no worker runs, rather than start one for it.
 * `frameCrc` false: the caller uses no CRC32 of the frame (the result's `crc` is then 0 or the
 * frame's, whichever costs nothing), so none is computed for it.
 *
 * While the worker threads are starting (a block before this one started them: tens of
 * milliseconds), a zstd block is compressed here instead of waiting for them, as a worker would
 * (the same probe, the same bytes): the calling thread would otherwise sit idle with its blocks
 * in flight (docs/BENCHMARKS.md, "The write side in a big heap and on small entries"). A stream
 * whose first block a worker could not compress still fails as the environment.
 */
export async function compressBlock(
  codec: CodecName,
  level: number,
  data: Buffer,
  owned: boolean,
  frames: Leases | null = null,
  digest = false,
  frameCapacity = 0,
  probe: false | 'block' | 'last' = false,
  frameCrc = true,
): Promise<FrameResult> {
  const recyclable = frames !== null;
  const stagingFrame = (length: number): Buffer => {
    const frame = allocStaging(length);
    frames!.lend(frame);
    return frame;
  };
  if (codec === 'none') {
    // Copied and hashed a raw block at a time, while it is in the cache.
    const { frame, crc } = storedZstdFrameWithCrc(data, recyclable ? stagingFrame : undefined);
    // The block is copied into the frame: one the caller gave up is free for the next one.
    if (owned && isOwnable(data.buffer)) recycleBlock(data.buffer);
    return withDigest({ data: frame, crc }, digest);
  }
  if (codec === 'lz4') {
    // Recycled memory for the frame, as for zstd: fresh megabytes per block were page faults,
    // and garbage the size of the output (all of the input, when it does not compress).
    const frame = await wrapCodec(() => compressLz4Frame(data, recyclable ? stagingFrame : undefined), 'lz4', -1);
    // lz4-napi is done with the input: a block the caller gave up is free for the next one.
    if (owned && isOwnable(data.buffer)) recycleBlock(data.buffer);
    return withDigest({ data: frame, crc: frameCrc ? crc32(frame) : 0 }, digest);
  }
  const probed = probe !== false && probedHere(data, level, probe === 'last');
  if (probed === 'incompressible' || probed === 'small') {
    const { frame, crc } =
      probed === 'small'
        ? await wrapCodec(async () => withCrc(compressSmallHere(data, level, recyclable ? stagingFrame : Buffer.allocUnsafe)), 'zstd', -1)
        : storedZstdFrameWithCrc(data, recyclable ? stagingFrame : undefined);
    // Copied into the frame: a block the caller gave up is free for the next one.
    if (owned && isOwnable(data.buffer)) recycleBlock(data.buffer);
    return withDigest({ data: frame, crc }, digest);
  }
  const pool = sharedPool();
  if (pool.starting()) {
    // Every thread the first blocks need is started now; this block does not wait for them.
    pool.start();
    const { frame, crc } = await wrapCodec(async () => compressHere(data, level, recyclable ? stagingFrame : Buffer.allocUnsafe, frameCrc), 'zstd', -1);
    if (owned && isOwnable(data.buffer)) recycleBlock(data.buffer);
    return withDigest({ data: frame, crc }, digest);
  }
  const src = movable(data, owned);
  const out = recyclable ? allocStaging(zstdBound(Math.max(data.length, frameCapacity)), true).buffer : undefined;
  const req = {
    op: 'compress' as const,
    level,
    buffer: src.buffer,
    offset: src.byteOffset,
    length: src.length,
    ...(out ? { out } : {}),
    ...(digest ? { digest: true } : {}),
    ...(probed === 'compressible' ? { probed: true } : {}),
    ...(frameCrc ? {} : { frameCrc: false }),
  };
  const result = recycled(await wrapCodec(() => pool.run(req, true), 'zstd', -1));
  if (out && result.data.buffer === out) frames!.lend(result.data);
  return result;
}

/** Where {@link decompressFrame} may decode a zstd frame. */
export interface FramePlacement {
  /**
   * While the worker threads it would use are starting (none ready yet), decode a frame of a
   * few megabytes at most on this thread instead of waiting for them (zstd-here.ts); for a
   * reader whose thread would otherwise wait. Starts those threads if they are not running.
   */
  here?: boolean;
  /** Use only the first this many worker threads of the pool (WorkerPool.run). Default: all. */
  workers?: number;
}

/**
 * The probe of lib/codec/stored-probe.ts on this thread, while no worker thread runs: once one
 * does (a block compressed), blocks go to the workers, which probe them there, as the main
 * thread has other work and the workers' start is paid. `small`: the `last` block, too small to
 * probe, is compressed here (one small block, the end of data that did not compress, is not
 * worth starting a worker for). `false`: the worker decides, also when zstd-napi cannot be
 * loaded here (the worker then reports whatever stops it from compressing).
 */
function probedHere(data: Uint8Array, level: number, last: boolean): 'incompressible' | 'compressible' | 'small' | false {
  if (sharedPool().threads > 0) return false;
  try {
    if (data.length < PROBE_MIN_BLOCK) return last ? 'small' : false;
    return probeHere(data, level) ? 'incompressible' : 'compressible';
  } catch {
    return false;
  }
}

function withCrc(frame: Buffer): { frame: Buffer; crc: number } {
  return { frame, crc: crc32(frame) };
}

/**
 * What a zstd worker makes of `data` (zstd-worker.ts), made on this thread: stored when the probe
 * says it does not compress, else zstd's one-shot frame at `level`, in memory from `alloc`.
 */
function compressHere(data: Uint8Array, level: number, alloc: (length: number) => Buffer, frameCrc: boolean): { frame: Buffer; crc: number } {
  if (probeHere(data, level)) return storedZstdFrameWithCrc(data, alloc);
  const frame = compressSmallHere(data, level, alloc);
  return { frame, crc: frameCrc ? crc32(frame) : 0 };
}

/**
 * Decompresses one whole frame known to hold `rawLength` bytes (LZ4 frames may leave it null).
 * The result's `crc` is the CRC32 of the frame as given (0 for a zstd frame with `frameCrc`
 * false: a caller that checks nothing against it need not have every byte hashed again).
 * `offset` is the frame's place in the stream, for errors. `placement`: which threads may decode it.
 */
export async function decompressFrame(
  kind: 'zstd' | 'lz4',
  frame: Buffer,
  rawLength: number | null,
  owned: boolean,
  offset: number,
  frameCrc = true,
  placement: FramePlacement = {},
): Promise<FrameResult> {
  if (kind === 'lz4') {
    const crc = crc32(frame);
    // Decoded piece by piece (lz4-block-decoder.ts), gathered into recycled memory as zstd's
    // blocks are decoded into it.
    const pieces = await decodeLz4Frame(frame, rawLength, offset);
    let length = 0;
    for (const p of pieces) length += p.length;
    const data = allocStaging(length);
    let at = 0;
    for (const p of pieces) at += p.copy(data, at);
    // Copied out: a frame the caller gave up (one gathered from several input chunks) is free
    // for the next one, rather than garbage the size of the frame.
    if (owned && isOwnable(frame.buffer)) recycleBlock(frame.buffer);
    return { data, crc, recyclable: true };
  }
  if (rawLength === null) throw new FormatError(`zstd frame at byte ${offset} has no content size`, { offset });
  const pool = sharedPool();
  const workers = placement.workers ?? pool.size;
  const mayDecodeHere = placement.here === true && rawLength <= MAX_HERE;
  // Start the threads now if none is: this frame is decoded here meanwhile.
  if (mayDecodeHere) pool.start(workers);
  if (mayDecodeHere && pool.starting(workers)) {
    const result = await wrapCodec(async () => decompressHere(frame, rawLength, frameCrc), 'zstd', offset);
    // Decoded: a frame the caller gave up is free for the next one, as when a worker hands it back.
    if (owned && isOwnable(frame.buffer)) recycleBlock(frame.buffer);
    result.here = true;
    return result;
  }
  const src = movable(frame, owned);
  const req = {
    op: 'decompress' as const,
    rawLength,
    buffer: src.buffer,
    offset: src.byteOffset,
    length: src.length,
    // Output goes into recycled memory: the result's whole ArrayBuffer belongs to the caller,
    // who may give it back with recycleBlock once done with it.
    out: allocStaging(rawLength).buffer as ArrayBuffer,
    ...(frameCrc ? {} : { frameCrc: false }),
  };
  const result = recycled(await wrapCodec(() => pool.run(req, true, workers), 'zstd', offset));
  result.recyclable = true;
  return result;
}

/**
 * For a caller some of whose frames were decoded on its own thread ({@link FramePlacement}
 * `here`), before it reports success: resolves once one of the `workers` threads it would use is
 * ready, and fails with a CodecError marked `environment` if none of them could start, as every
 * frame would have without `here` — whether a read works in a process where the codec cannot
 * run must not depend on how much of it was done before the threads had failed.
 */
export function workersStarted(workers?: number): Promise<void> {
  return wrapCodec(() => sharedPool().whenReady(workers), 'zstd', -1);
}

/**
 * Adds the frame's digest, hashed on libuv's thread pool (WebCrypto) so the main thread only
 * pays for handing the frame over; shared memory, which WebCrypto refuses, is hashed here.
 */
async function withDigest(result: FrameResult, digest: boolean): Promise<FrameResult> {
  if (!digest) return result;
  const frame = result.data;
  if (frame.buffer instanceof SharedArrayBuffer) return { ...result, digest: frameDigest(frame) };
  const hash = await webcrypto.subtle.digest('SHA-256', frame);
  return { ...result, digest: Buffer.from(hash, 0, FRAME_DIGEST_BYTES) };
}

/**
 * Bytes whose whole memory may go to a worker: `data` itself when the caller gave it up, else a
 * copy of just these bytes (a view into someone else's larger buffer must not be moved, and
 * cloning the whole of it would copy far more than needed).
 */
function movable(data: Buffer, owned: boolean): Buffer {
  if (owned && isOwnable(data.buffer)) return data;
  const copy = allocStaging(data.length);
  data.copy(copy);
  return copy;
}

/** The input was ours (given up by the caller, or our copy): its memory is free for reuse. */
function recycled(result: FrameResult): FrameResult {
  if (result.input) recycleBlock(result.input);
  delete result.input;
  return result;
}

/** Memory a caller can give up: its own ArrayBuffer or SharedArrayBuffer (not, say, a WebAssembly memory). */
function isOwnable(buffer: ArrayBufferLike): boolean {
  return buffer instanceof ArrayBuffer || buffer instanceof SharedArrayBuffer;
}

/** ZSTD_COMPRESSBOUND: the most bytes a zstd frame of `n` bytes takes. */
function zstdBound(n: number): number {
  return n + (n >>> 8) + (n < 128 * 1024 ? (128 * 1024 - n) >>> 11 : 0);
}

async function wrapCodec<T>(run: () => Promise<T>, codec: string, offset: number): Promise<T> {
  try {
    return await run();
  } catch (cause) {
    const where = offset >= 0 ? ` in frame at byte ${offset}` : '';
    throw new CodecError(`${codec} failed${where}: ${(cause as Error).message}`, {
      cause,
      ...(offset >= 0 ? { offset } : {}),
      // The worker never ran the job: nothing is known about the bytes.
      ...(cause instanceof WorkerFailure ? { environment: true } : {}),
    });
  }
}
