/** Options every snapstream stream takes. */
export interface StageOptions {
  /** Aborting this signal destroys the stream with Node's `AbortError`. */
  signal?: AbortSignal;
  /** Buffering threshold of the stream's readable (and writable) side. */
  highWaterMark?: number;
}

/** Progress reported by long-running streams as a `progress` event. */
export interface Progress {
  /** Bytes processed so far (input bytes for writers and compressors). */
  bytes: number;
  /** Total bytes expected, when known. */
  total?: number;
  /** Entries processed so far; 0 from stages that see bytes only (chunker, sink, decompressor). */
  entries: number;
  /** Bytes written after compression so far: from the {@link Compressor} only. */
  compressedBytes?: number;
}

/** Picks the stream-construction options Node understands from a stage's options. */
export function nodeStreamOptions(options: StageOptions): { signal?: AbortSignal; highWaterMark?: number } {
  const out: { signal?: AbortSignal; highWaterMark?: number } = {};
  if (options.signal) out.signal = options.signal.aborted ? abortedNextTick(options.signal) : options.signal;
  if (options.highWaterMark !== undefined) out.highWaterMark = options.highWaterMark;
  return out;
}

/**
 * A signal that aborts, for the same reason, on the next tick. Given one already aborted, Node
 * destroys a stream inside its constructor; since Node 24, `pipeline()` then refuses the
 * destroyed stream (ERR_STREAM_UNABLE_TO_PIPE) without listening to it, and the AbortError the
 * stream emits is uncaught: the process dies. A tick later, the pipeline built with the stage is
 * listening, and rejects with that AbortError on every Node version.
 */
function abortedNextTick(signal: AbortSignal): AbortSignal {
  const deferred = new AbortController();
  process.nextTick(() => deferred.abort(signal.reason));
  return deferred.signal;
}
