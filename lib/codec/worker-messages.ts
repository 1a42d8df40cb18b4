/**
 * Messages between the main thread and the zstd worker threads. An ArrayBuffer is moved with
 * its message and back; a SharedArrayBuffer is used in place and never sent back (the main
 * thread keeps its own reference).
 */
export type WorkerRequest =
  | {
      id: number;
      op: 'compress';
      level: number;
      buffer: ArrayBufferLike;
      offset: number;
      length: number;
      /** Memory to compress into (at least the zstd bound of `length`), handed over by the main thread. */
      out?: ArrayBufferLike;
      /** Also compute the frame's digest (lib/format/frame-digest.ts) here, off the main thread. */
      digest?: boolean;
      /** The sender probed the block (lib/codec/stored-probe.ts) and found it compressible: no probe here. */
      probed?: boolean;
      /** False: the caller needs no CRC32 of the frame (the reply's `crc` is 0 unless the frame was stored). */
      frameCrc?: boolean;
    }
  | {
      id: number;
      op: 'decompress';
      rawLength: number;
      buffer: ArrayBufferLike;
      offset: number;
      length: number;
      /** Memory to decompress into (at least rawLength bytes), handed over by the main thread. */
      out?: ArrayBufferLike;
      /** False: the caller needs no CRC32 of the frame (the reply's `crc` is 0). */
      frameCrc?: boolean;
    };

export type WorkerReply =
  | {
      id: number;
      /** The output's memory when it is an ArrayBuffer; else the output lies in the request's shared `out`. */
      buffer?: ArrayBuffer;
      length: number;
      crc: number;
      /** The input's memory when it is an ArrayBuffer (moved back); shared input stays where it is. */
      input?: ArrayBuffer;
      /** The compressed frame's digest, when the request asked for it. */
      digest?: Uint8Array;
      error?: undefined;
    }
  | {
      id: number;
      error: string;
      /** The CRC32 of the input frame, when it was computed before the failure: lets the main thread tell damage (a CRC mismatch) from a codec failure. */
      crc?: number;
    };

/** Sent once by a worker when its module has loaded: it takes jobs from now on without delay. */
export interface WorkerReady {
  ready: true;
}
