/**
 * Decodes one zstd frame of any size incrementally on the calling thread, for frames too big
 * to hand to a worker whole (files the stock `zstd` tool made, or frames without a size).
 */
import type * as Binding from 'zstd-napi/binding.js';
import { CodecError } from '../errors.js';
import type { StreamingFrameDecoder } from './streaming-frame-decoder.js';
// Loaded by the first decoder: most reads never stream a frame on this thread.
import { zstdBinding as zstd } from './zstd-binding.js';

/** Largest window accepted: 128 MiB, zstd's own default limit for decoders. */
const WINDOW_LOG_MAX = 27;
const OUT_CHUNK = 256 * 1024;

export class ZstdStreamDecoder implements StreamingFrameDecoder {
  private dctx: Binding.DCtx | null = new (zstd().DCtx)();
  finished = false;
  pending = false;

  constructor(private readonly offset: number) {
    this.dctx!.setParameter(zstd().DParameter.windowLogMax, WINDOW_LOG_MAX);
  }

  write(input: Buffer, emit: (out: Buffer) => boolean): number {
    let consumed = 0;
    const dctx = this.dctx!;
    this.pending = false;
    while (!this.finished) {
      const out = Buffer.allocUnsafe(OUT_CHUNK);
      let ret: number, produced: number, used: number;
      try {
        [ret, produced, used] = dctx.decompressStream(out, input.subarray(consumed));
      } catch (cause) {
        throw new CodecError(`zstd frame at byte ${this.offset} is corrupt: ${(cause as Error).message}`, {
          offset: this.offset,
          cause,
        });
      }
      consumed += used;
      const more = produced > 0 ? emit(out.subarray(0, produced)) : true;
      if (ret === 0) this.finish();
      // Stop when input is used up and the decoder has no more output buffered for us.
      else if (consumed >= input.length && produced < OUT_CHUNK) break;
      else if (!more) {
        this.pending = true;
        break;
      }
    }
    return consumed;
  }

  end(): void {
    this.dctx = null;
  }

  private finish(): void {
    this.finished = true;
    this.dctx = null;
  }
}
