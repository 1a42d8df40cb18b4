/**
 * A process-wide pool of zstd worker threads, one per core, shared by every Compressor and
 * Decompressor. Workers are unref'd while idle so they never keep a process alive, and
 * created lazily so importing snapstream costs nothing.
 */
import { Worker } from 'node:worker_threads';
import { defaultPoolSize } from './pool-size.js';
import type { WorkerReady, WorkerReply, WorkerRequest } from './worker-messages.js';

export interface FrameResult {
  /** The output bytes (compressed frame, or decompressed block). */
  data: Buffer;
  /** CRC32 of the compressed frame (the output when compressing, the input when decompressing). */
  crc: number;
  /** The input's memory, handed back by the worker. */
  input?: ArrayBufferLike;
  /** True when `data`'s whole ArrayBuffer is the caller's to reuse (recycleBlock) once done. */
  recyclable?: boolean;
  /** Decoded on the calling thread while the worker threads started (block-codec.ts). */
  here?: boolean;
  /** The compressed frame's digest (lib/format/frame-digest.ts), when asked for. */
  digest?: Buffer;
}

type Job = {
  request: Omit<WorkerRequest, 'id'>;
  /** Run on one of the first this many workers only (see {@link WorkerPool.run}). */
  workers: number;
  transfer: ArrayBuffer[];
  resolve: (result: FrameResult) => void;
  reject: (err: Error) => void;
};

interface Slot {
  worker: Worker;
  /** Jobs sent to this worker and not yet answered, by id (a worker answers in order). */
  jobs: Map<number, Job>;
  /** The worker has answered a job: it did start. */
  answered: boolean;
  /** The worker has loaded its module and said so: a job sent now runs at once. */
  ready: boolean;
}

/**
 * The codec could not run: its worker thread did not start, or failed or exited outside any
 * job. An environment failure, never a sign of damage in the bytes (see CodecError.environment).
 */
export class WorkerFailure extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

/**
 * Jobs queued at each worker at once, so a worker finds its next job waiting the moment it
 * finishes one instead of idling until the main thread gets round to sending it. The main
 * thread shares the cores with the workers and can be a few milliseconds late; at two, each
 * worker waited for work about four times as long as at three (docs/BENCHMARKS.md, "Why the
 * write side is built as it is").
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
  /** A worker died before it was ready, and none has been ready since: {@link start} starts none. */
  private startFailed = false;
  /** Why the last worker that died before it was ready died. */
  private startFailure: Error | null = null;
  /** Callers of {@link whenReady} still waiting. */
  private readyWaiters: { workers: number; resolve: () => void; reject: (err: Error) => void }[] = [];

  constructor(size = defaultPoolSize()) {
    this.size = size;
  }

  /** Worker threads running now (they start with the first jobs, up to {@link size}). */
  get threads(): number {
    return this.slots.length;
  }

  /**
   * True while a job limited to the first `workers` threads (see {@link run}) would wait for one
   * to start: some are starting and none of them is ready yet.
   */
  starting(workers = this.size): boolean {
    const n = Math.min(workers, this.slots.length);
    for (let i = 0; i < n; i++) if (this.slots[i]!.ready) return false;
    return n > 0;
  }

  /** True when one of the first `workers` threads is ready. */
  private hasReady(workers: number): boolean {
    const n = Math.min(workers, this.slots.length);
    for (let i = 0; i < n; i++) if (this.slots[i]!.ready) return true;
    return false;
  }

  /**
   * Resolves once one of the first `workers` threads is ready (at once if one is, or if none was
   * started); rejects with the failure once none of them can start. For a caller that decoded
   * frames itself while they started (block-codec.ts): it must not succeed in a process where the
   * codec cannot run at all, only because its input was small enough to be done before the
   * threads had failed. The threads keep the process alive meanwhile.
   */
  whenReady(workers = this.size): Promise<void> {
    if (this.hasReady(workers)) return Promise.resolve();
    if (!this.starting(workers)) return this.startFailed ? Promise.reject(this.startFailure!) : Promise.resolve();
    this.slots.forEach((s) => s.worker.ref());
    return new Promise((resolve, reject) => this.readyWaiters.push({ workers, resolve, reject }));
  }

  /** Settles the {@link whenReady} waiters that can be: those with a ready thread, or none starting. */
  private settleWaiters(failure: Error | null): void {
    if (this.readyWaiters.length === 0) return;
    this.readyWaiters = this.readyWaiters.filter((w) => {
      if (this.hasReady(w.workers)) w.resolve();
      else if (failure && !this.starting(w.workers)) w.reject(failure);
      else return true;
      return false;
    });
    if (this.readyWaiters.length === 0 && this.busy === 0) this.slots.forEach((s) => s.worker.unref());
  }

  /**
   * Starts every worker thread now, before any job needs them, so that starting them overlaps
   * with the caller's own work (a reader opening its file and parsing its header). A thread that
   * cannot start is left for {@link run} to report, as it would have been without this.
   * `workers`: start only this many (those the caller's jobs will use).
   */
  start(workers = this.size): void {
    if (this.startFailed) return;
    while (this.slots.length < Math.min(workers, this.size)) {
      let slot: Slot;
      try {
        slot = this.startWorker();
      } catch {
        return;
      }
      // Idle until a job comes: it must not keep the process alive.
      if (this.busy === 0) slot.worker.unref();
    }
  }

  /**
   * Runs one job; `owned` lets the input's memory be moved to the worker instead of copied.
   * `workers`: the job runs on one of the first this many worker threads only, started as
   * needed; for a caller whose own thread is the bottleneck (a reader of small entries), where
   * more threads would only share the cores it needs (docs/BENCHMARKS.md, "Reading entries and bytes").
   */
  run(request: Omit<WorkerRequest, 'id'>, owned: boolean, workers = this.size): Promise<FrameResult> {
    return new Promise((resolve, reject) => {
      // ArrayBuffers move with the message; shared memory is used where it is.
      const transfer: ArrayBuffer[] = owned && request.buffer instanceof ArrayBuffer ? [request.buffer] : [];
      if ('out' in request && request.out instanceof ArrayBuffer) transfer.push(request.out);
      this.queue.push({ request, workers: Math.max(1, workers), transfer, resolve, reject });
      this.dispatch();
    });
  }


  private dispatch(): void {
    while (this.queue.length > 0) {
      // In order: a job waiting for one of its workers holds back those after it.
      const slot = this.idleSlot(this.queue[0]!.workers);
      if (!slot) return;
      const job = this.queue.shift()!;
      const id = this.nextId++;
      slot.jobs.set(id, job);
      if (this.busy++ === 0) this.slots.forEach((s) => s.worker.ref());
      slot.worker.postMessage({ ...job.request, id } as WorkerRequest, job.transfer);
    }
  }

  /**
   * The least loaded of the first `workers` workers with room, starting a new one while fewer
   * than that (at most `size`) run.
   */
  private idleSlot(workers: number): Slot | undefined {
    const n = Math.min(workers, this.slots.length);
    for (let i = 0; i < n; i++) if (this.slots[i]!.jobs.size === 0) return this.slots[i];
    if (this.slots.length < Math.min(workers, this.size)) {
      try {
        return this.startWorker();
      } catch (err) {
        // No thread could be started: with none running, nothing queued can ever run.
        if (this.slots.length === 0) this.rejectQueued(new WorkerFailure(`zstd worker could not start: ${(err as Error).message}`, err));
      }
    }
    let best: Slot | undefined;
    for (let i = 0; i < n; i++) {
      const s = this.slots[i]!;
      if (s.jobs.size < WORKER_QUEUE_DEPTH && (!best || s.jobs.size < best.jobs.size)) best = s;
    }
    return best;
  }

  private startWorker(): Slot {
    const slot: Slot = { worker: startWorkerThread(workerUrl()), jobs: new Map(), answered: false, ready: false };
    slot.worker.on('message', (reply: WorkerReply | WorkerReady) => {
      if ('ready' in reply) {
        slot.ready = true;
        this.startFailed = false;
        this.settleWaiters(null);
      }
      else this.finish(slot, reply);
    });
    slot.worker.on('error', (err) => this.fail(slot, new WorkerFailure(`zstd worker failed: ${err.message}`, err)));
    slot.worker.on('exit', (code) => this.fail(slot, new WorkerFailure(`zstd worker exited with code ${code}`)));
    this.slots.push(slot);
    return slot;
  }

  private release(slot: Slot, id: number): Job | undefined {
    const job = slot.jobs.get(id);
    if (!job) return undefined;
    slot.jobs.delete(id);
    if (--this.busy === 0 && this.readyWaiters.length === 0) this.slots.forEach((s) => s.worker.unref());
    return job;
  }

  private finish(slot: Slot, reply: WorkerReply): void {
    slot.answered = true;
    const job = this.release(slot, reply.id);
    if (job) {
      // A failed decompression says what CRC its input had: the caller tells damage from a codec failure.
      if (reply.error !== undefined) job.reject(Object.assign(new Error(reply.error), reply.crc !== undefined ? { frameCrc: reply.crc } : {}));
      else {
        // Output and input in shared memory were used in place: they are the request's own.
        const out = reply.buffer ?? (job.request.out as SharedArrayBuffer);
        const input = reply.input ?? (job.request.buffer instanceof SharedArrayBuffer ? job.request.buffer : undefined);
        const digest = reply.digest ? Buffer.from(reply.digest.buffer, reply.digest.byteOffset, reply.digest.byteLength) : undefined;
        job.resolve({ data: Buffer.from(out, 0, reply.length), crc: reply.crc, ...(input ? { input } : {}), ...(digest ? { digest } : {}) });
      }
    }
    this.dispatch();
  }

  private fail(slot: Slot, err: Error): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.slots.splice(index, 1);
    // Not started again ahead of jobs (a thread per read, each dying) until one is ready; a job still starts one.
    if (!slot.ready) {
      this.startFailed = true;
      this.startFailure = err;
    }
    for (const id of [...slot.jobs.keys()]) this.release(slot, id)?.reject(err);
    // A worker that died before answering anything did not start (a preload that throws in
    // workers, a permission model without --allow-worker): the next would die the same way.
    if (!slot.answered && this.slots.length === 0) this.rejectQueued(err);
    this.settleWaiters(slot.ready ? null : err);
    this.dispatch();
  }

  private rejectQueued(err: Error): void {
    for (const job of this.queue.splice(0)) job.reject(err);
  }
}

/** The options the last worker started with, once Node accepted them. */
let acceptedExecArgv: string[] | null = null;

/**
 * Starts a worker thread with the process's own Node options, so that what the main thread was
 * given to load code (--import, --require, --loader, --conditions, a TypeScript loader) applies
 * in the worker too, less what a worker refuses.
 *
 * Node re-parses an explicit `execArgv` with the worker's option parser, which refuses every
 * per-process and V8 option (--max-old-space-size, --expose-gc, --stack-size,
 * --abort-on-uncaught-exception, --title, --jitless ...; those act process-wide anyway), and
 * throws ERR_WORKER_INVALID_EXEC_ARGV naming them. Which options a worker refuses differs
 * between Node versions (Node 24's `node --test` children carry --stack-trace-limit,
 * --tls-cipher-list, --node-snapshot ...), so no list kept here can be right for every version:
 * Node's own refusal names what to drop, and the rest is passed on. Not passing `execArgv` at all
 * (inheriting) would not re-parse, but a worker then also inherits --input-type and fails after
 * it started ("--input-type can only be used with string input"), too late to correct.
 * NODE_OPTIONS needs nothing: a worker re-parses it itself and ignores what it cannot take.
 */
function startWorkerThread(url: URL): Worker {
  let execArgv = acceptedExecArgv ?? workerExecArgv(process.execArgv);
  for (;;) {
    try {
      const worker = new Worker(url, { execArgv });
      acceptedExecArgv = execArgv;
      return worker;
    } catch (err) {
      const refused = refusedOptions(err, execArgv);
      if (refused.length === 0) throw err;
      execArgv = withoutOptions(execArgv, refused);
    }
  }
}

/**
 * The process's Node options less those that describe how the main script was given
 * (`--input-type`, `-e`/`--eval`, `-p`/`--print` and their values): a worker runs its own file.
 */
export function workerExecArgv(argv: readonly string[]): string[] {
  const mainOnly = new Set(['--input-type', '-e', '--eval', '-p', '--print']);
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = arg.startsWith('--') ? arg.split('=', 1)[0]! : arg;
    if (!mainOnly.has(name)) out.push(arg);
    else if (!arg.includes('=')) i++;
  }
  return out;
}

/**
 * The options in `execArgv` that an ERR_WORKER_INVALID_EXEC_ARGV error names (its message ends
 * "...flags: --a, --b"); none for any other error. Whole entries of the list are matched, so an
 * option's value that merely contains another's text is never taken for it.
 */
export function refusedOptions(err: unknown, execArgv: readonly string[]): string[] {
  if ((err as NodeJS.ErrnoException | null)?.code !== 'ERR_WORKER_INVALID_EXEC_ARGV') return [];
  const message = (err as Error).message;
  const at = message.indexOf(': ');
  if (at < 0) return [];
  const list = `, ${message.slice(at + 2)}, `;
  return execArgv.filter((arg) => list.includes(`, ${arg}, `));
}

/**
 * `execArgv` without the `refused` options, and without the separate value of one given as two
 * entries (`--title name`): left behind, the value would be taken for a script name, and Node
 * would ignore every option after it.
 */
export function withoutOptions(execArgv: readonly string[], refused: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!;
    if (!refused.includes(arg)) out.push(arg);
    else if (!arg.includes('=') && i + 1 < execArgv.length && !execArgv[i + 1]!.startsWith('-')) i++;
  }
  return out;
}


let shared: WorkerPool | null = null;

/** The process-wide pool. */
export function sharedPool(): WorkerPool {
  shared ??= new WorkerPool();
  return shared;
}
