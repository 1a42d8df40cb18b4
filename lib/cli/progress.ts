/**
 * A progress line on stderr — bytes, rate, ETA, entries — redrawn ten times a second, only when
 * stderr is a terminal and `--quiet` is not given. Fed by any stage's `progress` events.
 */
import type { Progress } from '../streams/stage-options.js';
import { formatBytes, formatCount } from './format.js';

export class ProgressBar {
  private last: Progress = { bytes: 0, entries: 0 };
  private readonly started = Date.now();
  private timer: NodeJS.Timeout | null = null;
  readonly enabled: boolean;

  constructor(
    private readonly label: string,
    options: { quiet?: boolean; stream?: NodeJS.WriteStream } = {},
  ) {
    this.stream = options.stream ?? process.stderr;
    this.enabled = !options.quiet && this.stream.isTTY === true;
    if (this.enabled) {
      this.timer = setInterval(() => this.draw(), 100);
      this.timer.unref();
    }
  }

  private readonly stream: NodeJS.WriteStream;

  update(progress: Progress): void {
    this.last = progress;
  }

  /** Draws the final state and ends the line. */
  done(): void {
    if (!this.enabled) return;
    if (this.timer) clearInterval(this.timer);
    this.draw();
    this.stream.write('\n');
  }

  private draw(): void {
    const seconds = Math.max(0.001, (Date.now() - this.started) / 1000);
    const rate = this.last.bytes / seconds;
    const total = this.last.total;
    const parts = [this.label, formatBytes(this.last.bytes)];
    if (total) parts.push(`of ${formatBytes(total)} (${((100 * this.last.bytes) / Math.max(1, total)).toFixed(0)}%)`);
    parts.push(`${formatBytes(rate)}/s`);
    if (total && rate > 0) parts.push(`ETA ${Math.max(0, Math.round((total - this.last.bytes) / rate))}s`);
    if (this.last.entries) parts.push(`${formatCount(this.last.entries)} entries`);
    this.stream.write(`\r\x1b[K${parts.join('  ')}`);
  }
}
