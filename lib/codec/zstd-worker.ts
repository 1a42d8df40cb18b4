/**
 * Worker thread body for zstd: one-shot compress or decompress of one frame, plus the CRC32
 * of the compressed bytes, so both cores work while the main thread moves bytes.
 * zstd-napi has no async API; this is how its work leaves the main thread.
 */
import { parentPort } from 'node:worker_threads';
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import type * as Binding from 'zstd-napi/binding.js';
import { frameDigest } from '../format/frame-digest.js';
import { looksIncompressible, PROBE_SPOT } from './stored-probe.js';
import { storedFrameSize, storedZstdFrameWithCrc } from './stored-zstd-frame.js';
import type { WorkerReady, WorkerReply, WorkerRequest } from './worker-messages.js';

const require = createRequire(import.meta.url);
const binding = require('zstd-napi/binding.js') as typeof Binding;
const crc32 = (zlib as { crc32?: (d: Uint8Array, v?: number) => number }).crc32 ?? portableCrc32();

function portableCrc32(): (d: Uint8Array, v?: number) => number {
  const CRC32 = require('crc-32') as { buf(data: Uint8Array, seed?: number): number };
  return (d, v) => CRC32.buf(d, v) >>> 0;
}

const cctx = new binding.CCtx();
const dctx = new binding.DCtx();
let scratch = new Uint8Array(0);

/**
 * True when the block is to be stored (lib/codec/stored-probe.ts), which costs several times
 * less than running zstd over all of it (docs/BENCHMARKS.md, "The write side in a big heap and
 * on small entries").
 */
function incompressible(src: Uint8Array, level: number): boolean {
  const bound = binding.compressBound(PROBE_SPOT);
  if (scratch.length < bound) scratch = new Uint8Array(bound);
  return looksIncompressible(src, (spot) => cctx.compress(scratch, spot, level));
}

/**
 * `probed`: the sender probed the block already and found it compressible. `withCrc` false: the
 * sender uses no CRC of the frame (a byte-mode Compressor whose consumer is anyone's), so none is
 * computed (a stored frame gets one anyway: it is hashed as it is copied).
 */
function compress(src: Uint8Array, level: number, into: ArrayBufferLike | undefined, probed: boolean, withCrc: boolean): { out: Uint8Array; crc: number } {
  if (!probed && incompressible(src, level)) {
    const size = storedFrameSize(src.length);
    const { frame, crc } = storedZstdFrameWithCrc(src, (n) => (into && into.byteLength >= size ? Buffer.from(into, 0, n) : Buffer.allocUnsafeSlow(n)));
    return { out: frame, crc };
  }
  const bound = binding.compressBound(src.length);
  if (into && into.byteLength >= bound) {
    // Straight into the memory the main thread sent (recycled frames).
    const out = new Uint8Array(into, 0, cctx.compress(new Uint8Array(into), src, level));
    return { out, crc: withCrc ? crc32(out) : 0 };
  }
  if (scratch.length < bound) scratch = new Uint8Array(bound);
  const n = cctx.compress(scratch, src, level);
  const out = Buffer.allocUnsafeSlow(n);
  out.set(scratch.subarray(0, n));
  return { out, crc: withCrc ? crc32(out) : 0 };
}

/** The CRC32 of the frame being decompressed, for the error reply if decompression fails. */
let frameCrc: number | undefined;

function decompress(src: Uint8Array, rawLength: number, into: ArrayBufferLike | undefined, withCrc: boolean): { out: Uint8Array; crc: number } {
  const crc = withCrc ? crc32(src) : 0;
  if (withCrc) frameCrc = crc;
  // Into the memory the main thread sent, when it did (recycled blocks); else fresh, unzeroed.
  const out = into && into.byteLength >= rawLength ? new Uint8Array(into, 0, rawLength) : Buffer.allocUnsafeSlow(rawLength);
  const n = dctx.decompress(out, src);
  if (n !== rawLength) throw new Error(`frame decompressed to ${n} bytes, expected ${rawLength}`);
  return { out, crc };
}

parentPort!.on('message', (req: WorkerRequest) => {
  const src = new Uint8Array(req.buffer, req.offset, req.length);
  let reply: WorkerReply;
  frameCrc = undefined;
  try {
    const { out, crc } = req.op === 'compress' ? compress(src, req.level, req.out, req.probed === true, req.frameCrc !== false) : decompress(src, req.rawLength, req.out, req.frameCrc !== false);
    // The input goes back too: the main thread refills it instead of allocating, and it is not
    // left here as garbage that only this thread's collector could free. Shared memory is not
    // sent back: the main thread has it already.
    const transfer: ArrayBuffer[] = [];
    const done: WorkerReply = { id: req.id, length: out.length, crc };
    // Hashed here, while the frame is hot in this core's cache, not on the busy main thread.
    if (req.op === 'compress' && req.digest === true) done.digest = new Uint8Array(frameDigest(out)); // a copy: 16 bytes cloned, not a pool
    if (out.buffer instanceof ArrayBuffer) transfer.push((done.buffer = out.buffer));
    if (req.buffer instanceof ArrayBuffer) transfer.push((done.input = req.buffer));
    reply = done;
    parentPort!.postMessage(reply, transfer);
  } catch (err) {
    dctx.reset(binding.ResetDirective.sessionOnly);
    reply = { id: req.id, error: err instanceof Error ? err.message : String(err), ...(frameCrc !== undefined ? { crc: frameCrc } : {}) };
    parentPort!.postMessage(reply);
  }
});

// Loaded: the main thread, which decodes the first blocks of a read itself while no worker is
// ready (lib/codec/block-codec.ts), may send them from now on.
parentPort!.postMessage({ ready: true } satisfies WorkerReady);
