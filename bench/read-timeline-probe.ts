/**
 * Loaded with `node --import` into a read-timeline child (bench/read-timeline.ts), and so into
 * its zstd worker threads too (a worker inherits the process's `--import`). Records, per worker
 * job, when the main thread sent it and got the answer, and when the worker began and finished
 * it (`performance.timeOrigin + performance.now()`, one clock for every thread), and the OS
 * thread id of each worker, so the parent can tell the worker threads' CPU time from the rest.
 * Nothing here changes what the code under test does; it only watches its messages.
 */
import fs from 'node:fs';
import { BroadcastChannel, isMainThread, parentPort, threadId, Worker } from 'node:worker_threads';

const now = (): number => performance.timeOrigin + performance.now();
const osTid = (): number => Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
const channel = new BroadcastChannel('snapstream-read-timeline');

/** A job as a worker saw it: its request id, when it came in and when its answer went out. */
export interface WorkerJob {
  id: number;
  start: number;
  end: number;
}

/** What a worker reports when asked. */
export interface WorkerReport {
  threadId: number;
  tid: number;
  jobs: WorkerJob[];
}

/** A job as the main thread saw it. */
export interface MainJob {
  threadId: number;
  id: number;
  sent: number;
  answered: number;
}

if (!isMainThread && parentPort) {
  const jobs: WorkerJob[] = [];
  const open = new Map<number, number>();
  // The worker module's own listener, wrapped as it registers it: a listener of our own added
  // here would start the port before the module listens, and take the first jobs from it.
  const port = parentPort;
  const on = port.on.bind(port);
  port.on = ((event: string, listener: (m: { id?: number }) => void) => {
    if (event !== 'message') return on(event, listener);
    return on(event, (m: { id?: number }) => {
      if (typeof m?.id === 'number') open.set(m.id, now());
      listener(m);
    });
  }) as typeof port.on;
  const post = parentPort.postMessage.bind(parentPort);
  parentPort.postMessage = (m: { id?: number }, transfer?: readonly unknown[]) => {
    if (typeof m?.id === 'number' && open.has(m.id)) {
      jobs.push({ id: m.id, start: open.get(m.id)!, end: now() });
      open.delete(m.id);
    }
    return post(m, transfer as never);
  };
  const tid = osTid();
  channel.onmessage = (e: unknown) => {
    if ((e as { data?: unknown }).data === 'dump') channel.postMessage({ threadId, tid, jobs } satisfies WorkerReport);
  };
  // Listening must not keep the worker alive.
  channel.unref();
} else {
  channel.unref();
  const jobs = new Map<string, MainJob>();
  const seen = new WeakSet<Worker>();
  const post = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (this: Worker, m: { id?: number }, transfer?: readonly unknown[]) {
    if (!seen.has(this)) {
      seen.add(this);
      const w = this;
      // Before the pool's own listener: the moment the answer reaches the main thread.
      w.prependListener('message', (r: { id?: number }) => {
        const job = typeof r?.id === 'number' ? jobs.get(`${w.threadId}:${r.id}`) : undefined;
        if (job) job.answered = now();
      });
    }
    if (typeof m?.id === 'number') jobs.set(`${this.threadId}:${m.id}`, { threadId: this.threadId, id: m.id, sent: now(), answered: NaN });
    return post.call(this, m, transfer as never);
  };
  /** Asks every worker for its jobs; resolves with them and the main thread's view. */
  (globalThis as { readTimeline?: () => Promise<{ main: MainJob[]; workers: WorkerReport[]; mainTid: number }> }).readTimeline = async () => {
    const workers: WorkerReport[] = [];
    const expected = new Set([...jobs.values()].map((j) => j.threadId));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 500);
      channel.onmessage = (e: unknown) => {
        const r = (e as { data: WorkerReport }).data;
        workers.push(r);
        expected.delete(r.threadId);
        if (expected.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      };
      channel.postMessage('dump');
    });
    channel.close();
    return { main: [...jobs.values()], workers, mainTid: process.pid };
  };
}
