/**
 * A process-wide pool of zstd worker threads, one per core, shared by every Compressor and
 * Decompressor. Workers are unref'd while idle so they never keep a process alive, and
 * created lazily so importing snapstream costs nothing.
 */
import { Worker } from 'node:worker_threads';
import os from 'node:os';
import type { WorkerReply, WorkerRequest } from './worker-messages.js';

export interface FrameResult {
  /** The output bytes (compressed frame, or decompressed block). */
  data: Buffer;
  /** CRC32 of the compressed frame (the output when compressing, the input when decompressing). */
  crc: number;
  /** The input's memory, handed back by the worker. */
  input?: ArrayBufferLike;
  /** True when `data`'s whole ArrayBuffer is the caller's to reuse (recycleBlock) once done. */
  recyclable?: boolean;
}

type Job = {
  request: Omit<WorkerRequest, 'id'>;
  transfer: ArrayBuffer[];
  resolve: (result: FrameResult) => void;
  reject: (err: Error) => void;
};

interface Slot {
  worker: Worker;
  /** Jobs sent to this worker and not yet answered, by id (a worker answers in order). */
  jobs: Map<number, Job>;
}

/**
 * Jobs queued at each worker at once, so a worker finds its next job waiting the moment it
 * finishes one instead of idling until the main thread gets round to sending it. The main
 * thread shares the cores with the workers and can be a few milliseconds late; at two, each
 * worker compressing 1 GiB of encoded entries waited 190–320 ms in all for work, at three
 * 45–90 ms.
 */
export const WORKER_QUEUE_DEPTH = 3;

function workerUrl(): URL {
  // Under a TypeScript loader (the tests) this module is the .ts source; built, it is .js.
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./zstd-worker${ext}`, import.meta.url);
}

export class WorkerPool {
  readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private busy = 0;

  constructor(size = defaultPoolSize()) {
    this.size = size;
  }

  /** Runs one job; `owned` lets the input's memory be moved to the worker instead of copied. */
  run(request: Omit<WorkerRequest, 'id'>, owned: boolean): Promise<FrameResult> {
    return new Promise((resolve, reject) => {
      // ArrayBuffers move with the message; shared memory is used where it is.
      const transfer: ArrayBuffer[] = owned && request.buffer instanceof ArrayBuffer ? [request.buffer] : [];
      if ('out' in request && request.out instanceof ArrayBuffer) transfer.push(request.out);
      this.queue.push({ request, transfer, resolve, reject });
      this.dispatch();
    });
  }


  private dispatch(): void {
    while (this.queue.length > 0) {
      const slot = this.idleSlot();
      if (!slot) return;
      const job = this.queue.shift()!;
      const id = this.nextId++;
      slot.jobs.set(id, job);
      if (this.busy++ === 0) this.slots.forEach((s) => s.worker.ref());
      slot.worker.postMessage({ ...job.request, id } as WorkerRequest, job.transfer);
    }
  }

  /** The least loaded worker with room, starting a new one while fewer than `size` run. */
  private idleSlot(): Slot | undefined {
    const idle = this.slots.find((s) => s.jobs.size === 0);
    if (idle) return idle;
    if (this.slots.length < this.size) return this.startWorker();
    let best: Slot | undefined;
    for (const s of this.slots) if (s.jobs.size < WORKER_QUEUE_DEPTH && (!best || s.jobs.size < best.jobs.size)) best = s;
    return best;
  }

  private startWorker(): Slot {
    const slot: Slot = { worker: new Worker(workerUrl(), { execArgv: workerExecArgv() }), jobs: new Map() };
    slot.worker.on('message', (reply: WorkerReply) => this.finish(slot, reply));
    slot.worker.on('error', (err) => this.fail(slot, err));
    slot.worker.on('exit', (code) => this.fail(slot, new Error(`zstd worker exited with code ${code}`)));
    this.slots.push(slot);
    return slot;
  }

  private release(slot: Slot, id: number): Job | undefined {
    const job = slot.jobs.get(id);
    if (!job) return undefined;
    slot.jobs.delete(id);
    if (--this.busy === 0) this.slots.forEach((s) => s.worker.unref());
    return job;
  }

  private finish(slot: Slot, reply: WorkerReply): void {
    const job = this.release(slot, reply.id);
    if (job) {
      // A failed decompression says what CRC its input had: the caller tells damage from a codec failure.
      if (reply.error !== undefined) job.reject(Object.assign(new Error(reply.error), reply.crc !== undefined ? { frameCrc: reply.crc } : {}));
      else {
        // Output and input in shared memory were used in place: they are the request's own.
        const out = reply.buffer ?? (job.request.out as SharedArrayBuffer);
        const input = reply.input ?? (job.request.buffer instanceof SharedArrayBuffer ? job.request.buffer : undefined);
        job.resolve({ data: Buffer.from(out, 0, reply.length), crc: reply.crc, ...(input ? { input } : {}) });
      }
    }
    this.dispatch();
  }

  private fail(slot: Slot, err: Error): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.slots.splice(index, 1);
    for (const id of [...slot.jobs.keys()]) this.release(slot, id)?.reject(err);
    this.dispatch();
  }
}

/**
 * The process's Node options, as workers inherit them by default, less those that describe how
 * the main script was given: under `node --input-type=module -e …` a worker would otherwise
 * refuse to start ("--input-type can only be used with string input"). Loaders and the like stay.
 */
function workerExecArgv(): string[] {
  return process.execArgv.filter((arg) => !arg.startsWith('--input-type'));
}

function defaultPoolSize(): number {
  return Math.max(1, Math.min(os.availableParallelism?.() ?? os.cpus().length, 8));
}

let shared: WorkerPool | null = null;

/** The process-wide pool. */
export function sharedPool(): WorkerPool {
  shared ??= new WorkerPool();
  return shared;
}
