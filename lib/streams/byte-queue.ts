import { allocStaging } from '../format/block-buffers.js';

/**
 * A queue of byte chunks read from the front without copying unless a read spans chunks.
 * Parsers use it to look at headers at any position and take whole frames out.
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
  private head = 0; // bytes of chunks[0] already consumed
  length = 0;

  /**
   * `onDrop` is called with each chunk once every byte of it has been taken or skipped; views of
   * it handed out before (peek, take without copy, takeParts) must be out of use by then.
   */
  constructor(private readonly onDrop?: (chunk: Buffer) => void) {}

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /**
   * `n` bytes from `pos` (relative to the front): a view when they lie in one chunk, else a copy.
   * The caller checks that `pos + n <= length`.
   */
  peek(pos: number, n: number): Buffer {
    let at = pos + this.head;
    for (let i = 0; i < this.chunks.length; i++) {
      const c = this.chunks[i]!;
      if (at < c.length) {
        if (at + n <= c.length) return c.subarray(at, at + n);
        return this.gather(i, at, n, false).data;
      }
      at -= c.length;
    }
    return Buffer.alloc(0);
  }

  /**
   * Removes and returns the first `n` bytes. `owned` is true when the result is a fresh buffer
   * with its own memory (it spanned chunks, or `copy` asked for one), false when it is a view of
   * an input chunk.
   */
  take(n: number, copy = false): { data: Buffer; owned: boolean } {
    const first = this.chunks[0];
    let result: { data: Buffer; owned: boolean };
    if (!copy && first && this.head + n <= first.length) {
      result = { data: first.subarray(this.head, this.head + n), owned: false };
    } else {
      result = this.gather(0, this.head, n, true);
    }
    this.skip(n);
    return result;
  }

  /** Removes the first `n` bytes and returns them as views of the input chunks, copying nothing. */
  takeParts(n: number): Buffer[] {
    const parts: Buffer[] = [];
    let left = n;
    let at = this.head;
    for (let i = 0; left > 0 && i < this.chunks.length; i++) {
      const c = this.chunks[i]!;
      const take = Math.min(c.length - at, left);
      parts.push(c.subarray(at, at + take));
      left -= take;
      at = 0;
    }
    this.skip(n);
    return parts;
  }

  /** Drops the first `n` bytes. */
  skip(n: number): void {
    this.length -= n;
    let left = n + this.head;
    while (left > 0 && this.chunks.length > 0) {
      const c = this.chunks[0]!;
      if (left < c.length) break;
      left -= c.length;
      this.chunks.shift();
      this.onDrop?.(c);
    }
    this.head = left;
  }

  /** Removes everything, returning the chunks in order (views). */
  drain(): Buffer[] {
    const out = this.chunks.map((c, i) => (i === 0 ? c.subarray(this.head) : c));
    this.chunks = [];
    this.head = 0;
    this.length = 0;
    return out.filter((c) => c.length > 0);
  }

  private gather(index: number, at: number, n: number, slow: boolean): { data: Buffer; owned: boolean } {
    const out = slow ? allocStaging(n) : Buffer.allocUnsafe(n);
    let filled = 0;
    for (let i = index; filled < n && i < this.chunks.length; i++) {
      const c = this.chunks[i]!;
      const from = i === index ? at : 0;
      const take = Math.min(c.length - from, n - filled);
      c.copy(out, filled, from, from + take);
      filled += take;
    }
    return { data: out, owned: slow };
  }
}

/** The buffers after their first `n` bytes, as views (nothing copied). */
export function dropBytes(parts: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  let skip = n;
  for (const p of parts) {
    if (skip >= p.length) {
      skip -= p.length;
      continue;
    }
    out.push(skip > 0 ? p.subarray(skip) : p);
    skip = 0;
  }
  return out;
}
