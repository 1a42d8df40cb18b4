/** Messages between the main thread and the zstd worker threads. */
export type WorkerRequest =
  | { id: number; op: 'compress'; level: number; buffer: ArrayBuffer; offset: number; length: number }
  | { id: number; op: 'decompress'; rawLength: number; buffer: ArrayBuffer; offset: number; length: number };

export type WorkerReply =
  | { id: number; buffer: ArrayBuffer; length: number; crc: number; input: ArrayBuffer; error?: undefined }
  | { id: number; error: string };
