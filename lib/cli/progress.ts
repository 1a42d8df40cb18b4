/**
 * Progress of a command, measured on its input: bytes and entries read and the input rate, and
 * when the input size is known a percentage, a bar and the time left. On a terminal (stderr a
 * TTY, no `--quiet`) one line is redrawn ten times a second and, at the end, a one-line summary
 * replaces it: input size, output size, ratio, time, rate. With `--json`, progress goes to stderr
 * as JSON lines instead (once a second and at the end), for scripts; stdout keeps the result.
 */
import fs from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { formatBytes, formatDuration, plural } from './format.js';

/** What a command has read so far. */
export interface InputProgress {
  /** Input bytes read. */
  bytes: number;
  /** Input size, when known. */
  total?: number | undefined;
  /** Entries read, where the command knows entries. */
  entries?: number | undefined;
  /** Bytes that did not have to cross the wire (a delta transfer), where the command knows it. */
  saved?: number | undefined;
}

export interface ProgressOptions {
  /** `--quiet`: nothing at all. */
  quiet?: boolean;
  /** `--json`: JSON progress lines on stderr instead of the drawn line. */
  json?: boolean;
  /** Where to draw. Default stderr. */
  stream?: NodeJS.WriteStream;
  /** The input size, when known before the start. */
  total?: number | undefined;
  /** Read at every redraw, in place of (or besides) `update()`. */
  poll?: () => InputProgress;
}

const BAR = 20;

export class ProgressBar {
  private last: InputProgress = { bytes: 0 };
  private readonly started = performance.now();
  private timer: NodeJS.Timeout | null = null;
  private readonly stream: NodeJS.WriteStream;
  private readonly mode: 'tty' | 'json' | 'off';
  private finished = false;

  constructor(
    private readonly label: string,
    private readonly options: ProgressOptions = {},
  ) {
    this.stream = options.stream ?? process.stderr;
    this.mode = options.quiet ? 'off' : options.json ? 'json' : this.stream.isTTY === true ? 'tty' : 'off';
    if (options.total !== undefined) this.last.total = options.total;
    if (this.mode !== 'off') {
      this.timer = setInterval(() => this.draw(), this.mode === 'tty' ? 100 : 1000);
      this.timer.unref();
    }
  }

  /** True when anything is shown. */
  get enabled(): boolean {
    return this.mode !== 'off';
  }

  /** The latest input position (fields left out keep their value). */
  update(progress: InputProgress): void {
    this.last = {
      bytes: progress.bytes,
      total: progress.total ?? this.last.total,
      entries: progress.entries ?? this.last.entries,
      saved: progress.saved ?? this.last.saved,
    };
  }

  /**
   * Ends the display after a success: the final state and the one-line summary. `bytesIn`
   * overrides the input size where it was only estimated along the way.
   */
  done(result: { bytesIn?: number; bytesOut?: number; entries?: number } = {}): void {
    if (this.finished) return;
    this.finish(result.bytesIn);
    if (this.mode === 'off') return;
    const ms = performance.now() - this.started;
    const { bytes } = this.last;
    const entries = result.entries ?? this.last.entries;
    if (this.mode === 'json') {
      this.stream.write(
        `${JSON.stringify({ event: 'done', command: this.label, bytesIn: bytes, ...(result.bytesOut !== undefined ? { bytesOut: result.bytesOut } : {}), ...(entries !== undefined ? { entries } : {}), ms: Math.round(ms) })}\n`,
      );
      return;
    }
    const parts = [`${formatBytes(bytes)} in`];
    if (result.bytesOut !== undefined) {
      parts.push(`${formatBytes(result.bytesOut)} out (${result.bytesOut > 0 ? (bytes / result.bytesOut).toFixed(2) : '-'}×)`);
    }
    if (entries !== undefined) parts.push(plural(entries, 'entry', 'entries'));
    parts.push(`${formatDuration(ms)}, ${formatBytes(bytes / Math.max(ms / 1000, 0.001))}/s`);
    this.stream.write(`\r\x1b[K${this.label}: ${parts.join(', ')}\n`);
  }

  /** Ends the display after a failure: the last state stays, the error line follows it. */
  stop(): void {
    if (this.finished) return;
    this.finish();
    if (this.mode === 'tty') this.stream.write('\n');
  }

  private finish(bytesIn?: number): void {
    this.finished = true;
    if (this.timer) clearInterval(this.timer);
    if (this.options.poll) this.update(this.options.poll());
    if (bytesIn !== undefined) this.last.bytes = bytesIn;
    if (this.mode === 'tty') this.draw();
  }

  private draw(): void {
    if (this.options.poll && !this.finished) this.update(this.options.poll());
    const ms = performance.now() - this.started;
    const { bytes, total, entries, saved } = this.last;
    const rate = bytes / Math.max(ms / 1000, 0.001);
    if (this.mode === 'json') {
      this.stream.write(`${JSON.stringify({ event: 'progress', command: this.label, bytes, ...(total !== undefined ? { total } : {}), ...(entries !== undefined ? { entries } : {}), ...(saved ? { saved } : {}), ms: Math.round(ms) })}\n`);
      return;
    }
    const parts = [this.label];
    if (total !== undefined && total > 0) {
      const fraction = Math.min(1, bytes / total);
      const filled = Math.round(fraction * BAR);
      parts.push(`${(100 * fraction).toFixed(0).padStart(3)}%`, `[${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}]`, `${formatBytes(bytes)} / ${formatBytes(total)}`);
    } else {
      parts.push(formatBytes(bytes));
    }
    parts.push(`${formatBytes(rate)}/s`);
    if (entries !== undefined) parts.push(plural(entries, 'entry', 'entries'));
    if (saved) parts.push(`${formatBytes(saved)} saved`);
    if (total !== undefined && total > 0 && bytes > 0 && bytes < total) parts.push(`${formatDuration(((total - bytes) / rate) * 1000)} left`);
    let line = parts.join('  ');
    // A line that wraps cannot be redrawn in place.
    const width = this.stream.columns;
    if (width && line.length >= width) line = line.slice(0, width - 1);
    this.stream.write(`\r\x1b[K${line}`);
  }
}

/** A pass-through that counts the bytes going through it (`bytes`). */
export class ByteCounter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    callback(null, chunk);
  }
}

/**
 * The size of standard input when it is redirected from a regular file (`< FILE`), else
 * undefined (a pipe, a terminal, a socket).
 */
export function stdinSize(): number | undefined {
  try {
    const st = fs.fstatSync(0);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

/** The size of a file, or undefined when it cannot be read (the command then reports why). */
export function fileSize(path: string): number | undefined {
  try {
    const st = fs.statSync(path);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}
