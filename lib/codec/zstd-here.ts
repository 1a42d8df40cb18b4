/**
 * Decodes one whole zstd frame on the calling thread (the main thread), as a worker thread
 * would: for the first blocks of a read, while the worker threads are still starting. Starting
 * them takes tens of milliseconds in a fresh process, in which a reader had nothing to do but
 * wait (docs/BENCHMARKS.md, "Reading entries and bytes").
 */
import type * as Binding from 'zstd-napi/binding.js';
import { allocStaging, recycleBlock } from '../format/block-buffers.js';
import { crc32 } from '../format/crc32.js';
import type { FrameResult } from './worker-pool.js';
import { zstdBinding } from './zstd-binding.js';

/** Largest block decoded here: a few milliseconds of the caller's thread at most. */
export const MAX_HERE = 4 * 1024 * 1024;

let dctx: Binding.DCtx | null = null;

/**
 * `frame` decoded into pooled memory (the result is `recyclable`), with the CRC32 of the frame
 * (0 when `withCrc` is false). Fails as a worker's job does: an Error carrying `frameCrc`.
 */
export function decompressHere(frame: Buffer, rawLength: number, withCrc: boolean): FrameResult {
  const crc = withCrc ? crc32(frame) : 0;
  const data = allocStaging(rawLength);
  const binding = zstdBinding();
  dctx ??= new binding.DCtx();
  try {
    const n = dctx.decompress(data, frame);
    if (n !== rawLength) throw new Error(`frame decompressed to ${n} bytes, expected ${rawLength}`);
  } catch (err) {
    dctx.reset(binding.ResetDirective.sessionOnly);
    recycleBlock(data.buffer);
    throw Object.assign(new Error(err instanceof Error ? err.message : String(err)), withCrc ? { frameCrc: crc } : {});
  }
  return { data, crc, recyclable: true };
}
