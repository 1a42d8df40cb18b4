/**
 * Keeps several asynchronous jobs in flight and hands their results on in the order the jobs
 * were started: how the compressor and decompressor use every core yet keep block order.
 */
interface Slot<T> {
  done: boolean;
  value?: T;
  error?: unknown;
}

export class OrderedResults<T> {
  private slots: Slot<T>[] = [];
  private waiter: (() => void) | null = null;
  private waitForEmpty = false;
  private stopped = false;

  constructor(
    /** Most jobs in flight before {@link whenRoom} makes the caller wait (see {@link setLimit}). */
    private _limit: number,
    private readonly deliver: (value: T) => void,
    private readonly fail: (err: unknown) => void,
  ) {}

  get size(): number {
    return this.slots.length;
  }

  /** Most jobs in flight before {@link whenRoom} makes the caller wait. */
  get limit(): number {
    return this._limit;
  }

  /** Changes the limit; a caller waiting for room gets it at once if there is some now. */
  setLimit(limit: number): void {
    const raised = limit > this._limit;
    this._limit = limit;
    // Not from inside the caller's code (a pacer in the middle of producing): on a microtask.
    if (raised) queueMicrotask(() => this.flush());
  }

  /** Adds a job (or a value already known, which still waits its turn). */
  add(job: Promise<T> | T): void {
    if (this.stopped) return;
    const slot: Slot<T> = { done: false };
    this.slots.push(slot);
    if (job instanceof Promise) {
      job.then(
        (value) => this.settle(slot, value, undefined),
        (error: unknown) => this.settle(slot, undefined, error ?? new Error('job failed')),
      );
    } else {
      slot.done = true;
      slot.value = job;
      this.flush();
    }
  }

  /** Calls `cb` once fewer than `limit` jobs are in flight (at once if already so). */
  whenRoom(cb: () => void): void {
    if (this.slots.length < this._limit) return cb();
    this.waitForEmpty = false;
    this.waiter = cb;
  }

  /** Calls `cb` once every job has been delivered. */
  whenEmpty(cb: () => void): void {
    if (this.slots.length === 0) return cb();
    this.waitForEmpty = true;
    this.waiter = cb;
  }

  /** Drops everything still in flight (on destroy): late results are ignored. */
  stop(): void {
    this.stopped = true;
    this.slots = [];
    this.waiter = null;
  }

  private settle(slot: Slot<T>, value: T | undefined, error: unknown): void {
    slot.done = true;
    slot.value = value;
    slot.error = error;
    this.flush();
  }

  private flush(): void {
    while (!this.stopped && this.slots.length > 0 && this.slots[0]!.done) {
      const slot = this.slots.shift()!;
      if (slot.error !== undefined) {
        this.stop();
        this.fail(slot.error);
        return;
      }
      try {
        this.deliver(slot.value as T);
      } catch (err) {
        // A listener of what delivery emits threw (an onProgress callback, say): that fails the
        // stream, rather than escaping as an unhandled rejection from the job's promise.
        this.stop();
        this.fail(err);
        return;
      }
    }
    const waiter = this.waiter;
    if (waiter && !this.stopped && (this.waitForEmpty ? this.slots.length === 0 : this.slots.length < this._limit)) {
      this.waiter = null;
      waiter();
    }
  }
}
