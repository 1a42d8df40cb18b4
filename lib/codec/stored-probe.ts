/**
 * The probe that tells a block of data that does not compress (already compressed or
 * encrypted) from one that does, before zstd runs over all of it: four spots of the block (its
 * start, its end and two between) are compressed at the block's level, and a block whose spots
 * save less than 1/32 is stored (a frame of raw blocks, what zstd itself writes for it). The
 * zstd worker threads probe every block they are given; a byte-mode Compressor probes on its own
 * thread first, so that blocks to be stored never wait for, or start, a worker thread
 * (docs/BENCHMARKS.md, "Data that does not compress"). The same function decides in both places:
 * a block is stored, or not, wherever it was probed.
 */
import type * as Binding from 'zstd-napi/binding.js';
import { zstdBinding } from './zstd-binding.js';

/** Bytes of each of the four places of a block that {@link looksIncompressible} tries. */
export const PROBE_SPOT = 4 * 1024;

/** Below this many bytes a block is never taken for incompressible (the probe would be most of it). */
export const PROBE_MIN_BLOCK = 16 * PROBE_SPOT;

/**
 * True when four spots of `src` compress by less than 1/32: `packedSize` compresses one spot
 * and returns its compressed size. Costs compressing 16 KiB per block of data that does compress.
 */
export function looksIncompressible(src: Uint8Array, packedSize: (spot: Uint8Array) => number): boolean {
  if (src.length < PROBE_MIN_BLOCK) return false;
  let packed = 0;
  for (let i = 0; i < 4; i++) {
    const at = Math.floor((src.length - PROBE_SPOT) * (i / 3));
    packed += packedSize(src.subarray(at, at + PROBE_SPOT));
  }
  return packed >= 4 * PROBE_SPOT - (4 * PROBE_SPOT) / 32;
}

let here: { binding: typeof Binding; cctx: Binding.CCtx; scratch: Uint8Array } | null = null;

function zstdHere(): { binding: typeof Binding; cctx: Binding.CCtx; scratch: Uint8Array } {
  if (!here) {
    const binding = zstdBinding();
    here = { binding, cctx: new binding.CCtx(), scratch: new Uint8Array(binding.compressBound(PROBE_SPOT)) };
  }
  return here;
}

/**
 * {@link looksIncompressible} on the calling thread, with a zstd context of its own (zstd-napi is
 * loaded on the first call): what a worker would decide for the same block at the same level.
 */
export function probeHere(src: Uint8Array, level: number): boolean {
  if (src.length < PROBE_MIN_BLOCK) return false;
  const { cctx, scratch } = zstdHere();
  return looksIncompressible(src, (spot) => cctx.compress(scratch, spot, level));
}

/**
 * A block too small to probe (under {@link PROBE_MIN_BLOCK}: the last of a file, say) compressed
 * on the calling thread, into memory from `alloc`: the bytes a worker makes of it (zstd's
 * one-shot compression at `level`), without starting a worker for one small block.
 */
export function compressSmallHere(src: Uint8Array, level: number, alloc: (length: number) => Buffer): Buffer {
  const z = zstdHere();
  const bound = z.binding.compressBound(src.length);
  if (z.scratch.length < bound) z.scratch = new Uint8Array(bound);
  const n = z.cctx.compress(z.scratch, src, level);
  const out = alloc(n);
  out.set(z.scratch.subarray(0, n));
  return out;
}
