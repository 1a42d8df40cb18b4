/**
 * Dechunker: chunk frames → bytes. Checks every header CRC, every chunk's CRC, that sequence
 * numbers and offsets run on without gaps or repeats, and at the end frame the total length and
 * the CRC32 of the whole stream; anything else is a typed error. With `objects: true` it emits
 * the checked ChunkFrame objects instead of their data.
 *
 * (For a receiver that must tolerate repeats and resume, see ChunkedReceiver.)
 */
import { Transform, type TransformCallback } from 'node:stream';
import { ChecksumError, FormatError, TruncatedError } from '../errors.js';
import { CHUNK_END, CHUNK_HEADER_SIZE, decodeChunkHeader, MAX_CHUNK_SIZE, type ChunkFrame } from '../format/chunk-frame.js';
import { crc32, crc32Combine } from '../format/crc32.js';
import { ByteQueue } from './byte-queue.js';
import { checkChunkStart } from './chunker.js';
import { nodeStreamOptions, type StageOptions } from './stage-options.js';

/** Options of {@link Dechunker} (and {@link createDechunker}). */
export interface DechunkerOptions extends StageOptions {
  /** Emit ChunkFrame objects (data checked) instead of bytes. */
  objects?: boolean;
  /** Largest chunk accepted. Default 16 MiB. */
  maxChunkSize?: number;
  /**
   * Expect a stream that continues one whose first `offset` bytes (CRC32 `crc`) went out as
   * `seq` chunks already (a Chunker's `start`). Default: the stream starts at chunk 0, byte 0.
   */
  start?: {
    /** Bytes already received: the offset the first chunk must have. */
    offset: number;
    /** Chunks already received: the seq the first chunk must have. */
    seq: number;
    /** CRC32 of the bytes already received. */
    crc: number;
  };
}

/**
 * Chunk frames (a {@link Chunker}'s output) → the bytes they carry, checking every CRC, the
 * order of the chunks and the end frame's length and CRC32; anything wrong is a typed error.
 * Checked ChunkFrame objects out with `objects: true`. Made by {@link createDechunker}.
 */
export class Dechunker extends Transform {
  private readonly objects: boolean;
  private readonly maxChunkSize: number;
  private readonly input = new ByteQueue();
  private header: Omit<ChunkFrame, 'data'> | null = null;
  private position = 0; // bytes of frames consumed
  private nextSeq: number;
  private nextOffset: number;
  private crc: number;
  private ended = false;

  constructor(options: DechunkerOptions = {}) {
    const objects = options.objects === true;
    super({ ...nodeStreamOptions(options), readableObjectMode: objects, ...(objects ? { readableHighWaterMark: 2 } : {}) });
    this.objects = objects;
    this.maxChunkSize = options.maxChunkSize ?? MAX_CHUNK_SIZE;
    const start = checkChunkStart(options.start);
    // The first frame must be the one expected: a stream that lost its first chunks would
    // otherwise decode to bytes with a hole at the front and no whole-stream CRC to catch it.
    this.nextSeq = start.seq;
    this.nextOffset = start.offset;
    this.crc = start.crc;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.input.push(chunk);
    try {
      while (this.step());
    } catch (err) {
      return callback(err as Error);
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.ended && this.input.length === 0) return callback();
    callback(new TruncatedError(`chunk stream ends at byte ${this.position + this.input.length} without its end frame`, {
      offset: this.position + this.input.length,
    }));
  }

  private step(): boolean {
    if (this.ended) {
      if (this.input.length > 0) throw new FormatError(`bytes after the end frame at byte ${this.position}`, { offset: this.position });
      return false;
    }
    if (!this.header) {
      if (this.input.length < CHUNK_HEADER_SIZE) return false;
      const h = decodeChunkHeader(this.input.peek(0, CHUNK_HEADER_SIZE), this.position, this.maxChunkSize);
      this.input.skip(CHUNK_HEADER_SIZE);
      this.position += CHUNK_HEADER_SIZE;
      this.checkOrder(h);
      if (h.type === CHUNK_END) return this.endFrame(h);
      this.header = h;
    }
    const h = this.header;
    if (this.input.length < h.length) return false;
    const { data } = this.input.take(h.length);
    const actual = crc32(data);
    if (actual !== h.crc32) {
      throw new ChecksumError(`chunk ${h.seq} (stream offset ${h.offset}) fails its CRC32`, {
        offset: h.offset,
        seq: h.seq,
        expected: h.crc32,
        actual,
      });
    }
    this.position += h.length;
    this.header = null;
    this.crc = crc32Combine(this.crc, actual, h.length);
    this.nextSeq = h.seq + 1;
    this.nextOffset = h.offset + h.length;
    this.push(this.objects ? { ...h, data } : data);
    return true;
  }

  private checkOrder(h: Omit<ChunkFrame, 'data'>): void {
    // (An end frame's offset is the stream's length: endFrame() checks it.)
    if (h.seq !== this.nextSeq || (h.type !== CHUNK_END && h.offset !== this.nextOffset)) {
      throw new FormatError(`chunk ${h.seq} at stream offset ${h.offset} is out of order (expected chunk ${this.nextSeq} at ${this.nextOffset})`, {
        offset: h.offset,
        seq: h.seq,
        expected: this.nextOffset,
        actual: h.offset,
      });
    }
  }

  private endFrame(h: Omit<ChunkFrame, 'data'>): boolean {
    const length = this.nextOffset;
    if (h.offset > length) {
      throw new TruncatedError(`the end frame says ${h.offset} bytes, ${length} arrived`, { offset: length, expected: h.offset, actual: length });
    }
    if (h.offset < length) {
      // More arrived than the stream's own end frame claims: not a cut stream but a wrong one.
      throw new FormatError(`the end frame says ${h.offset} bytes, but ${length} arrived`, { offset: length, expected: h.offset, actual: length });
    }
    if (h.crc32 !== this.crc) {
      throw new ChecksumError('the CRC32 of the whole stream does not match the end frame', { expected: h.crc32, actual: this.crc });
    }
    this.ended = true;
    if (this.objects) this.push({ ...h });
    return true;
  }
}

/** Creates a {@link Dechunker}. */
export function createDechunker(options?: DechunkerOptions): Dechunker {
  return new Dechunker(options);
}
