/**
 * Backpressure for transforms that push asynchronously (when a worker job finishes).
 *
 * Node's Transform holds a write's callback while its readable side is full only if something
 * was pushed during that `_transform` call. A stage that pushes later must hold the callback
 * itself, or a slow consumer lets the producer run ahead and the readable buffer grows without
 * bound. The stage calls {@link ReadableGate.whenRoom} before finishing a write,
 * {@link ReadableGate.release} from `_read`, which Node calls once the consumer wants more, and
 * {@link ReadableGate.pushed} whenever it pushes.
 *
 * Node calls `_read` before it takes what is being read off the buffer, and then not again
 * until something is pushed. So from a `_read` until the next push the buffer's level is stale:
 * the gate stays open then, or a write held on that level would wait for a `_read` that never
 * comes.
 */
import type { Readable } from 'node:stream';

export class ReadableGate {
  private held: (() => void) | null = null;
  private asked = false;

  constructor(private readonly stream: Readable) {}

  /** True from a `_read` until the next push: the consumer is waiting for output. */
  get wanted(): boolean {
    return this.asked;
  }

  /** Calls `cb` now if the readable side has room (or the consumer is waiting), else at the next `_read`. */
  whenRoom(cb: () => void): void {
    const s = this.stream;
    if (this.asked || s.readableLength < s.readableHighWaterMark) cb();
    else this.held = cb;
  }

  /** Runs a held callback; call from `_read`. */
  release(): void {
    this.asked = true;
    const held = this.held;
    if (held) {
      this.held = null;
      held();
    }
  }

  /** Call on every push. */
  pushed(): void {
    this.asked = false;
  }
}
