/** The codecs a snapshot can use and the checks of the options that name them (the ids are in format/codec-ids.ts). */
import { InvalidArgumentError } from '../errors.js';
import { MAX_BLOCK_SIZE, MIN_BLOCK_SIZE, type CodecName } from '../format/codec-ids.js';

export { CODEC_IDS, codecFromId, MAX_BLOCK_SIZE, MIN_BLOCK_SIZE, type CodecName } from '../format/codec-ids.js';

export const DEFAULT_ZSTD_LEVEL = 1;
export const DEFAULT_BLOCK_SIZE = 1024 * 1024;

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
