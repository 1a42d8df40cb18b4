/** The codecs a snapshot can use, and their ids in the file header. */
import { InvalidArgumentError, UnsupportedError } from '../errors.js';

/** A compression codec: `zstd`, `lz4`, or `none` (stored uncompressed, still in zstd frames). */
export type CodecName = 'zstd' | 'lz4' | 'none';

export const CODEC_IDS: Record<CodecName, number> = { none: 0, zstd: 1, lz4: 2 };

export const DEFAULT_ZSTD_LEVEL = 1;
export const DEFAULT_BLOCK_SIZE = 1024 * 1024;
/** Blocks from 4 KiB to 64 MiB: large enough to compress well, small enough to bound memory. */
export const MIN_BLOCK_SIZE = 4 * 1024;
export const MAX_BLOCK_SIZE = 64 * 1024 * 1024;

export function codecFromId(id: number, offset = 0): CodecName {
  const name = (Object.keys(CODEC_IDS) as CodecName[]).find((n) => CODEC_IDS[n] === id);
  if (name === undefined) throw new UnsupportedError(`unknown codec id ${id}`, { offset, actual: id });
  return name;
}

export function checkCodec(codec: unknown): CodecName {
  if (codec === 'zstd' || codec === 'lz4' || codec === 'none') return codec;
  throw new InvalidArgumentError(`codec must be 'zstd', 'lz4' or 'none', got ${String(codec)}`);
}

export function checkBlockSize(size: unknown): number {
  if (typeof size !== 'number' || !Number.isInteger(size) || size < MIN_BLOCK_SIZE || size > MAX_BLOCK_SIZE) {
    throw new InvalidArgumentError(`blockSize must be an integer from ${MIN_BLOCK_SIZE} to ${MAX_BLOCK_SIZE}`);
  }
  return size;
}

export function checkLevel(level: unknown): number {
  if (typeof level !== 'number' || !Number.isInteger(level) || level < -7 || level > 22) {
    throw new InvalidArgumentError(`zstd level must be an integer from -7 to 22`);
  }
  return level;
}
