/**
 * The small chunks a delta receiver took off the wire, kept so that the assembled file's last
 * check (check-assembled.ts) reads its metadata frames from memory. Between two copied frames a
 * delta sends a block header as a chunk of its own (a few hundred bytes); the receiver writes its
 * partial around the page cache (O_DIRECT), so reading those headers back meant a disk read each,
 * on the main thread at the end of the transfer (docs/BENCHMARKS.md, "Delta transfer", session 9). Bounded: only chunks up to
 * {@link KEPT_CHUNK} bytes, {@link KEPT_TOTAL} in all; whatever is not kept is read from the file.
 */

import { upperBound } from '../format/upper-bound.js';

/** Largest chunk kept: a block header, or a few (a changed frame's chunk is not kept). */
export const KEPT_CHUNK = 64 * 1024;
/** Most bytes kept per connection. */
export const KEPT_TOTAL = 16 * 1024 * 1024;

/** Byte ranges of a file, kept in memory, by offset (added in increasing order). */
export class KeptBytes {
  private readonly starts: number[] = [];
  private readonly bytes: Buffer[] = [];
  private total = 0;

  /** Keeps a copy of `parts` (the file's bytes from `offset` on), if small enough and there is room. */
  keep(offset: number, parts: Buffer[]): void {
    let length = 0;
    for (const p of parts) length += p.length;
    if (length === 0 || length > KEPT_CHUNK || this.total + length > KEPT_TOTAL) return;
    const last = this.starts.length - 1;
    if (last >= 0 && offset < this.starts[last]! + this.bytes[last]!.length) return; // only ever forward
    this.starts.push(offset);
    this.bytes.push(Buffer.concat(parts, length));
    this.total += length;
  }

  /**
   * The kept bytes from `position` on, up to `length` of them, gathered over adjacent ranges, or
   * null if `position` is not kept. Short where what is kept ends.
   */
  read(position: number, length: number): Buffer | null {
    // The last range starting at or before `position`.
    let i = upperBound(this.starts, position) - 1;
    if (i < 0 || position >= this.starts[i]! + this.bytes[i]!.length) return null;
    const first = this.bytes[i]!.subarray(position - this.starts[i]!);
    if (first.length >= length) return first.subarray(0, length);
    const pieces = [first];
    let got = first.length;
    for (i++; i < this.starts.length && got < length && this.starts[i] === position + got; i++) {
      const piece = this.bytes[i]!.subarray(0, length - got);
      pieces.push(piece);
      got += piece.length;
    }
    return pieces.length === 1 ? first : Buffer.concat(pieces, got);
  }
}
