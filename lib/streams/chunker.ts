/**
 * Chunker: bytes → chunk frames (lib/format/chunk-frame.ts): sequence-numbered, offset-tagged,
 * CRC-checked pieces of 4–16 MiB for sockets and pipes, ending with an end frame that carries
 * the stream's total length and CRC32. Emits frame bytes, or with `objects: true` ChunkFrame
 * objects. `chunkSize` may be changed while running (a sender adapting to its link).
 */
import { Transform, type TransformCallback } from 'node:stream';
import { InvalidArgumentError } from '../errors.js';
import {
  CHUNK_DATA,
  CHUNK_END,
  DEFAULT_CHUNK_SIZE,
  encodeChunkHeader,
  MAX_CHUNK_SIZE,
  MIN_CHUNK_SIZE,
  type ChunkFrame,
} from '../format/chunk-frame.js';
import { crc32, crc32Combine } from '../format/crc32.js';
import { nodeStreamOptions, type StageOptions } from './stage-options.js';

/** Options of {@link Chunker} (and {@link createChunker}). */
export interface ChunkerOptions extends StageOptions {
  /** Bytes per chunk, 4–16 MiB. Default 4 MiB. */
  chunkSize?: number;
  /** Emit ChunkFrame objects instead of bytes. */
  objects?: boolean;
  /** Continue a stream whose first `offset` bytes (CRC32 `crc`) went out as `seq` chunks already. */
  start?: {
    /** Bytes already sent: the offset of the first chunk. */
    offset: number;
    /** Chunks already sent: the seq of the first chunk. */
    seq: number;
    /** CRC32 of the bytes already sent. */
    crc: number;
  };
}

export function checkChunkSize(size: unknown): number {
  if (typeof size !== 'number' || !Number.isInteger(size) || size < MIN_CHUNK_SIZE || size > MAX_CHUNK_SIZE) {
    throw new InvalidArgumentError(`chunkSize must be an integer from ${MIN_CHUNK_SIZE} to ${MAX_CHUNK_SIZE}`);
  }
  return size;
}

/** Checks a Chunker's or Dechunker's `start`: where a continued stream begins. */
export function checkChunkStart(start: unknown): { offset: number; seq: number; crc: number } {
  const s = (start ?? { offset: 0, seq: 0, crc: 0 }) as { offset: unknown; seq: unknown; crc: unknown };
  if (
    !Number.isSafeInteger(s.offset) || (s.offset as number) < 0 ||
    !Number.isSafeInteger(s.seq) || (s.seq as number) < 0 ||
    !Number.isInteger(s.crc) || (s.crc as number) < 0 || (s.crc as number) > 0xffffffff
  ) {
    throw new InvalidArgumentError('start must be { offset, seq, crc } of non-negative integers (crc a uint32)');
  }
  return s as { offset: number; seq: number; crc: number };
}

/**
 * Bytes → chunk frames: sequence-numbered, CRC-checked pieces of `chunkSize` bytes, then an end
 * frame with the stream's length and CRC32 (ChunkFrame objects with `objects: true`). A
 * {@link Dechunker} reverses it. Made by {@link createChunker}.
 */
export class Chunker extends Transform {
  private size: number;
  private readonly objects: boolean;
  private parts: Buffer[] = [];
  private filled = 0;
  /** Bytes framed so far (the offset of the next chunk). */
  offset: number;
  /** Chunks emitted so far (the seq of the next one). */
  seq: number;
  /** CRC32 of the bytes framed so far. */
  crc: number;

  constructor(options: ChunkerOptions = {}) {
    const objects = options.objects === true;
    const size = checkChunkSize(options.chunkSize ?? DEFAULT_CHUNK_SIZE);
    const start = checkChunkStart(options.start);
    super({ ...nodeStreamOptions(options), readableObjectMode: objects, ...(objects ? { readableHighWaterMark: 2 } : {}) });
    this.size = size;
    this.objects = objects;
    this.offset = start.offset;
    this.seq = start.seq;
    this.crc = start.crc;
  }

  /** Bytes per chunk for the chunks that follow. */
  get chunkSize(): number {
    return this.size;
  }

  /** Changes the size of the chunks that follow (bytes already held beyond it go out as one chunk first). */
  set chunkSize(size: number) {
    this.size = checkChunkSize(size);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let at = 0;
    while (at < chunk.length) {
      // chunkSize was lowered below what is already held: that goes out as one chunk first.
      if (this.filled >= this.size) this.emitChunk();
      const take = Math.min(this.size - this.filled, chunk.length - at);
      this.parts.push(take === chunk.length ? chunk : chunk.subarray(at, at + take));
      this.filled += take;
      at += take;
      if (this.filled >= this.size) this.emitChunk();
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.filled > 0) this.emitChunk();
    const end: ChunkFrame = { type: CHUNK_END, seq: this.seq++, offset: this.offset, length: 0, crc32: this.crc };
    this.push(this.objects ? end : encodeChunkHeader(end));
    callback();
  }

  private emitChunk(): void {
    const data = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.filled);
    this.parts = [];
    this.filled = 0;
    const crc = crc32(data);
    const frame: ChunkFrame = { type: CHUNK_DATA, seq: this.seq++, offset: this.offset, length: data.length, crc32: crc, data };
    this.crc = crc32Combine(this.crc, crc, data.length);
    this.offset += data.length;
    if (this.objects) this.push(frame);
    else {
      this.push(encodeChunkHeader(frame));
      this.push(data);
    }
    this.emit('progress', { bytes: this.offset, entries: 0 });
  }
}

/** Creates a {@link Chunker}. */
export function createChunker(options?: ChunkerOptions): Chunker {
  return new Chunker(options);
}
