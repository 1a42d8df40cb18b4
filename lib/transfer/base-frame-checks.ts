/**
 * Reads of a delta receiver's base frames on a worker thread of their own, each frame's CRC32
 * computed there as it is read (frame-check-worker.ts): the main thread, which takes every
 * message, checks every chunk and writes the new file, was the limit of a delta transfer, and
 * reading and hashing the copied frames was most of its work (a gigabyte for a 1 GiB snapshot).
 * One worker for the process, started on first use and unref'd while idle, so it never keeps a
 * process alive. If it cannot start or fails, reads go back to the main thread (null).
 */
import type { Worker } from 'node:worker_threads';
import { startWorkerThread } from '../codec/worker-pool.js';
import type { FrameCheckReply, FrameCheckRequest } from './frame-check-worker.js';

/** What a read on the worker gave: bytes read, and each frame's CRC32 (-1: not whole in them). */
export interface CheckedRead {
  filled: number;
  crcs: number[];
}

interface Job {
  resolve: (read: CheckedRead) => void;
  reject: (err: Error) => void;
}

let worker: Worker | null = null;
let broken = false;
const jobs = new Map<number, Job>();
let nextId = 1;

function workerUrl(): URL {
  // Under a TypeScript loader (the tests) this module is the .ts source; built, it is .js.
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./frame-check-worker${ext}`, import.meta.url);
}

function fail(err: Error): void {
  broken = true;
  worker = null;
  const pending = [...jobs.values()];
  jobs.clear();
  for (const j of pending) j.reject(err);
}

function start(): Worker | null {
  if (worker || broken) return worker;
  try {
    const w = startWorkerThread(workerUrl());
    w.on('message', (reply: FrameCheckReply) => {
      const job = jobs.get(reply.id);
      if (!job) return;
      jobs.delete(reply.id);
      if (jobs.size === 0) w.unref();
      if (reply.error !== undefined) job.reject(new Error(reply.error));
      else job.resolve({ filled: reply.filled!, crcs: reply.crcs! });
    });
    w.on('error', (err) => fail(err));
    w.on('exit', (code) => fail(new Error(`the frame-check worker exited with code ${code}`)));
    w.unref();
    worker = w;
  } catch {
    broken = true;
  }
  return worker;
}

/**
 * Starts the worker (if it is not running) so that it is ready by the first read: a delta
 * receiver calls this when it starts indexing its bases.
 */
export function warmFrameChecks(): void {
  start();
}

/**
 * Reads `length` bytes of descriptor `fd` at `position` into `buffer` (shared memory) on the
 * worker, and the CRC32 of each frame `[at, length]` in it; null if the worker is not available.
 * The descriptor must stay open until the promise settles.
 */
export function readChecked(fd: number, position: number, length: number, buffer: SharedArrayBuffer, frames: [number, number][]): Promise<CheckedRead> | null {
  const w = start();
  if (!w) return null;
  const id = nextId++;
  return new Promise((resolve, reject) => {
    if (jobs.size === 0) w.ref();
    jobs.set(id, { resolve, reject });
    w.postMessage({ id, fd, position, length, buffer, frames } satisfies FrameCheckRequest);
  });
}
