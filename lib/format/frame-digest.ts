/**
 * The identity of a data frame (docs/FORMAT.md 3.5): the first 16 bytes of SHA-256 over the
 * frame's bytes exactly as stored. Two frames with the same digest are the same bytes; the CRC32
 * beside it stays the check for accidental damage.
 */
import { createHash } from 'node:crypto';

/** Bytes of a frame digest: SHA-256 truncated to 128 bits. */
export const FRAME_DIGEST_BYTES = 16;

/** The digest of `frame` (its whole bytes), computed on this thread. */
export function frameDigest(frame: Uint8Array): Buffer {
  return createHash('sha256').update(frame).digest().subarray(0, FRAME_DIGEST_BYTES);
}
