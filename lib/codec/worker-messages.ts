/** Messages between the main thread and the zstd worker threads. */
export type WorkerRequest =
  | { id: number; op: 'compress'; level: number; buffer: ArrayBuffer; offset: number; length: number }
  | {
      id: number;
      op: 'decompress';
      rawLength: number;
      buffer: ArrayBuffer;
      offset: number;
      length: number;
      /** Memory to decompress into (at least rawLength bytes), handed over by the main thread. */
      out?: ArrayBuffer;
    };

export type WorkerReply =
  | { id: number; buffer: ArrayBuffer; length: number; crc: number; input: ArrayBuffer; error?: undefined }
  | { id: number; error: string };
