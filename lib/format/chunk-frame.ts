/**
 * Chunk frames: how bytes travel over sockets and pipes (docs/PROTOCOL.md, "Chunk frames").
 *
 *   u32 magic 0x4B434E53 ("SNCK")   u8 type (1 data, 2 end)   u8 flags (0)   u16 reserved (0)
 *   u32 seq   u64 offset   u32 length   u32 crc32   u32 header CRC32 (of the 28 bytes before it)
 *   data (length bytes; none for end)
 *
 * A data frame carries `length` bytes that belong at `offset` of the stream, with their CRC32.
 * The end frame carries the stream's total length (as its offset) and the CRC32 of the whole
 * stream. Every header has its own CRC, so a damaged length is never trusted.
 */
import { ChecksumError, FormatError, LimitError } from '../errors.js';
import { readU64, writeU64 } from './binary.js';
import { crc32 } from './crc32.js';

export const CHUNK_MAGIC = 0x4b434e53;
/** Bytes in a chunk frame's header. */
export const CHUNK_HEADER_SIZE = 32;
/** `type` of a data frame. */
export const CHUNK_DATA = 1;
/** `type` of the end frame. */
export const CHUNK_END = 2;
/** Smallest chunk size a Chunker accepts (4 MiB). */
export const MIN_CHUNK_SIZE = 4 * 1024 * 1024;
/** Largest chunk size a Chunker accepts (16 MiB), and the default limit on a received chunk. */
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
export const DEFAULT_CHUNK_SIZE = MIN_CHUNK_SIZE;

/** A chunk frame as objects: `data` is absent for the end frame. */
export interface ChunkFrame {
  /** {@link CHUNK_DATA} or {@link CHUNK_END}. */
  type: typeof CHUNK_DATA | typeof CHUNK_END;
  /** Sequence number: 0 for the first frame, one more for each next one. */
  seq: number;
  /** Where `data` belongs in the stream; for the end frame, the stream's total length. */
  offset: number;
  /** Bytes of data (0 for the end frame). */
  length: number;
  /** CRC32 of `data`; for the end frame, of the whole stream. */
  crc32: number;
  /** The bytes (data frames). */
  data?: Buffer;
  /** The data as several buffers in order, instead of `data` (as a socket delivered it). */
  parts?: Buffer[];
}

export function encodeChunkHeader(frame: Omit<ChunkFrame, 'data'>): Buffer {
  const h = Buffer.alloc(CHUNK_HEADER_SIZE);
  h.writeUInt32LE(CHUNK_MAGIC, 0);
  h[4] = frame.type;
  h.writeUInt32LE(frame.seq, 8);
  writeU64(h, frame.offset, 12);
  h.writeUInt32LE(frame.length, 20);
  h.writeUInt32LE(frame.crc32, 24);
  h.writeUInt32LE(crc32(h.subarray(0, 28)), 28);
  return h;
}

/** A data frame for `data` at `offset` (header and data, as two buffers to write in order). */
export function dataFrame(seq: number, offset: number, data: Buffer): [Buffer, Buffer] {
  return [encodeChunkHeader({ type: CHUNK_DATA, seq, offset, length: data.length, crc32: crc32(data) }), data];
}

/** The end frame of a stream of `length` bytes with CRC32 `crc`. */
export function endFrame(seq: number, length: number, crc: number): Buffer {
  return encodeChunkHeader({ type: CHUNK_END, seq, offset: length, length: 0, crc32: crc });
}

/**
 * Decodes and checks a 32-byte chunk header. A header that fails its CRC is a ChecksumError:
 * nothing in it, least of all the length, can be trusted.
 */
export function decodeChunkHeader(h: Buffer, at: number, maxLength = MAX_CHUNK_SIZE): Omit<ChunkFrame, 'data'> {
  const magic = h.readUInt32LE(0);
  if (magic !== CHUNK_MAGIC) {
    throw new FormatError(`expected a chunk frame at byte ${at}, found magic 0x${magic.toString(16)}`, {
      offset: at,
      expected: CHUNK_MAGIC,
      actual: magic,
    });
  }
  const expected = h.readUInt32LE(28);
  const actual = crc32(h.subarray(0, 28));
  if (expected !== actual) throw new ChecksumError(`chunk header at byte ${at} fails its CRC32`, { offset: at, expected, actual });
  const type = h[4]!;
  if ((type !== CHUNK_DATA && type !== CHUNK_END) || h[5] !== 0 || h.readUInt16LE(6) !== 0) {
    throw new FormatError(`chunk header at byte ${at} has an unknown type or flags`, { offset: at, actual: type });
  }
  const length = h.readUInt32LE(20);
  if (type === CHUNK_END && length !== 0) {
    throw new FormatError(`end frame at byte ${at} claims ${length} bytes of data (it has none)`, { offset: at, expected: 0, actual: length });
  }
  if (length > maxLength) {
    throw new LimitError(`chunk at byte ${at} claims ${length} bytes, over the limit of ${maxLength}`, {
      offset: at,
      expected: maxLength,
      actual: length,
    });
  }
  return { type, seq: h.readUInt32LE(8), offset: readU64(h, 12), length, crc32: h.readUInt32LE(24) };
}
