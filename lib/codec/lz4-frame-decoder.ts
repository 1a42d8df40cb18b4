/**
 * Decodes one LZ4 frame of any size incrementally, in JavaScript.
 *
 * lz4-napi decodes whole frames only (and only the first of several), so frames too big to hold
 * — the stock `lz4` tool writes one frame per file — are decoded here, one block at a time,
 * with linked blocks, block checksums, content size and content checksum all honoured.
 */
import { ChecksumError, FormatError } from '../errors.js';
import type { FrameHeader } from './frame-format.js';
import type { StreamingFrameDecoder } from './streaming-frame-decoder.js';
import { XxHash32, xxhash32 } from './xxhash32.js';

const HISTORY = 64 * 1024;

export class Lz4FrameDecoder implements StreamingFrameDecoder {
  finished = false;
  /** Never true: each block's output is handed over whole. */
  readonly pending = false;
  private stage: 'header' | 'size' | 'block' | 'checksum' = 'header';
  private readonly held: Buffer;
  private heldLength = 0;
  private need: number;
  private blockWord = 0;
  private readonly window: Buffer;
  private historyLength = 0;
  private readonly content: XxHash32 | null;
  private produced = 0;
  private position: number;

  constructor(
    private readonly header: FrameHeader,
    private readonly offset: number,
  ) {
    this.need = header.headerSize;
    this.position = offset;
    // Room for the longest thing held at once: a block with its checksum, or a header.
    this.held = Buffer.allocUnsafe(Math.max(header.blockMaxSize + 8, 32));
    this.window = Buffer.allocUnsafe(HISTORY + header.blockMaxSize);
    this.content = header.contentChecksum ? new XxHash32() : null;
  }

  write(input: Buffer, emit: (out: Buffer) => boolean): number {
    let at = 0;
    let more = true;
    const give = (out: Buffer): void => {
      more = emit(out);
    };
    while (more && !this.finished && at < input.length) {
      const take = Math.min(this.need - this.heldLength, input.length - at);
      input.copy(this.held, this.heldLength, at, at + take);
      this.heldLength += take;
      at += take;
      if (this.heldLength < this.need) break;
      this.step(give);
    }
    return at;
  }

  end(): void {}

  /** Handles one complete piece (header, block size word, block, trailing checksum). */
  private step(emit: (out: Buffer) => void): void {
    const piece = this.held.subarray(0, this.need);
    this.position += this.need;
    this.heldLength = 0;
    switch (this.stage) {
      case 'header':
        this.stage = 'size';
        this.need = 4;
        return;
      case 'size': {
        const word = piece.readUInt32LE(0);
        if (word === 0) return this.endMark();
        const size = word & 0x7fffffff;
        if (size > this.header.blockMaxSize) throw this.error('LZ4 block larger than the frame allows');
        this.blockWord = word;
        this.stage = 'block';
        this.need = size + (this.header.blockChecksum ? 4 : 0);
        return;
      }
      case 'block':
        this.block(piece, emit);
        this.stage = 'size';
        this.need = 4;
        return;
      case 'checksum': {
        const expected = this.content!.digest();
        const actual = piece.readUInt32LE(0);
        if (expected !== actual) {
          throw new ChecksumError(`LZ4 content checksum mismatch in frame at byte ${this.offset}`, {
            offset: this.offset,
            expected,
            actual,
          });
        }
        this.finished = true;
        return;
      }
    }
  }

  private block(piece: Buffer, emit: (out: Buffer) => void): void {
    const size = this.blockWord & 0x7fffffff;
    const data = piece.subarray(0, size);
    if (this.header.blockChecksum) {
      const expected = xxhash32(data);
      const actual = piece.readUInt32LE(size);
      if (expected !== actual) {
        throw new ChecksumError(`LZ4 block checksum mismatch at byte ${this.position - piece.length}`, {
          offset: this.position - piece.length,
          expected,
          actual,
        });
      }
    }
    const start = this.header.blockIndependent ? 0 : this.historyLength;
    let end: number;
    if (this.blockWord & 0x80000000) {
      data.copy(this.window, start);
      end = start + size;
    } else {
      end = decodeLz4Block(data, this.window, start, this.window.length, this.position - piece.length);
    }
    const out = Buffer.from(this.window.subarray(start, end));
    this.produced += out.length;
    this.content?.update(out);
    if (out.length > 0) emit(out);
    if (!this.header.blockIndependent) {
      // Keep the last 64 KiB as history for the next block.
      const keep = Math.min(HISTORY, end);
      this.window.copy(this.window, 0, end - keep, end);
      this.historyLength = keep;
    }
  }

  private endMark(): void {
    if (this.header.contentSize !== null && this.header.contentSize !== this.produced) {
      throw new FormatError(`LZ4 frame at byte ${this.offset} declares ${this.header.contentSize} bytes, holds ${this.produced}`, {
        offset: this.offset,
        expected: this.header.contentSize,
        actual: this.produced,
      });
    }
    if (this.content) {
      this.stage = 'checksum';
      this.need = 4;
    } else {
      this.finished = true;
    }
  }

  private error(what: string): FormatError {
    return new FormatError(`${what} at byte ${this.position}`, { offset: this.position });
  }
}

/**
 * Decodes one LZ4 block (the raw block format) from `src` into `dst` at `start`, where the bytes
 * before `start` are history that matches may refer to. Returns the end of the output.
 * Every read and write is bounds-checked: a corrupt block is a FormatError, never garbage.
 */
export function decodeLz4Block(src: Buffer, dst: Buffer, start: number, limit: number, offset: number): number {
  let s = 0;
  let d = start;
  const n = src.length;
  const bad = (): FormatError => new FormatError(`corrupt LZ4 block at byte ${offset}`, { offset });
  for (;;) {
    if (s >= n) throw bad();
    const token = src[s++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      let b: number;
      do {
        if (s >= n) throw bad();
        b = src[s++]!;
        literals += b;
      } while (b === 255);
    }
    if (s + literals > n || d + literals > limit) throw bad();
    src.copy(dst, d, s, s + literals);
    s += literals;
    d += literals;
    if (s === n) return d; // the last sequence holds literals only
    if (s + 2 > n) throw bad();
    const distance = src[s]! | (src[s + 1]! << 8);
    s += 2;
    if (distance === 0 || distance > d) throw bad();
    let length = token & 15;
    if (length === 15) {
      let b: number;
      do {
        if (s >= n) throw bad();
        b = src[s++]!;
        length += b;
      } while (b === 255);
    }
    length += 4;
    if (d + length > limit) throw bad();
    let from = d - distance;
    if (distance >= length) {
      dst.copy(dst, d, from, from + length);
      d += length;
    } else {
      // Overlapping match: copy forward byte by byte (repeats the pattern).
      const end = d + length;
      while (d < end) dst[d++] = dst[from++]!;
    }
  }
}
