/**
 * Worker thread body for a delta receiver's base frames (base-frame-checks.ts): reads a run of
 * a base file into shared memory, one frame at a time, and computes each frame's CRC32 while its
 * bytes are still in this core's cache. The main thread only compares the CRC32s and writes the
 * bytes; reading and hashing a gigabyte of base frames there was most of its work.
 */
import fs from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { crc32 } from '../format/crc32.js';

/** A run to read: `length` bytes of descriptor `fd` from `position` into `buffer`, frames at [at, length]. */
export interface FrameCheckRequest {
  id: number;
  fd: number;
  position: number;
  length: number;
  buffer: SharedArrayBuffer;
  frames: [number, number][];
}

/** Bytes read (short if the file ended) and each frame's CRC32 (-1: not whole in what was read); or the error. */
export interface FrameCheckReply {
  id: number;
  filled?: number;
  crcs?: number[];
  error?: string;
}

parentPort!.on('message', (job: FrameCheckRequest) => {
  try {
    const view = new Uint8Array(job.buffer, 0, job.length);
    const crcs: number[] = [];
    let filled = 0;
    let ended = false;
    for (const [at, length] of job.frames) {
      const end = at + length;
      while (!ended && filled < end) {
        const n = fs.readSync(job.fd, view, filled, end - filled, job.position + filled);
        if (n === 0) ended = true;
        filled += n;
      }
      crcs.push(filled >= end ? crc32(view.subarray(at, end)) : -1);
    }
    parentPort!.postMessage({ id: job.id, filled, crcs } satisfies FrameCheckReply);
  } catch (err) {
    parentPort!.postMessage({ id: job.id, error: (err as Error).message } satisfies FrameCheckReply);
  }
});
