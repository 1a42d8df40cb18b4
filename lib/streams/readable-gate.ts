/**
 * Backpressure for transforms that push asynchronously (when a worker job finishes).
 *
 * Node's Transform holds a write's callback while its readable side is full only if something
 * was pushed during that `_transform` call. A stage that pushes later must hold the callback
 * itself, or a slow consumer lets the producer run ahead and the readable buffer grows without
 * bound. The stage calls {@link ReadableGate.whenRoom} before finishing a write and
 * {@link ReadableGate.release} from `_read`, which Node calls once the consumer wants more.
 */
import type { Readable } from 'node:stream';

export class ReadableGate {
  private held: (() => void) | null = null;

  constructor(private readonly stream: Readable) {}

  /** Calls `cb` now if the readable side is below its high-water mark, else at the next `_read`. */
  whenRoom(cb: () => void): void {
    const s = this.stream;
    if (s.readableLength < s.readableHighWaterMark) cb();
    else this.held = cb;
  }

  /** Runs a held callback; call from `_read`. */
  release(): void {
    const held = this.held;
    if (held) {
      this.held = null;
      held();
    }
  }
}
