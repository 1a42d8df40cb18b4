/**
 * The identity of a data frame: the first 16 bytes of SHA-256 over the frame's bytes exactly as
 * stored in the file (the `frameLength` bytes after its block header). Two frames with the same
 * digest are taken to be the same bytes; CRC32 stays the damage check.
 *
 * Files whose block headers carry the digest give it for free; for older files it is computed
 * here from the bytes, so both sides of a delta transfer agree whatever the file's revision.
 */
import crypto from 'node:crypto';
import type { BlockHeader } from './snapshot-frames.js';

/** Bytes in a frame digest. */
export const FRAME_DIGEST_SIZE = 16;

/** The digest of a data frame's stored bytes (given whole or in pieces). */
export function frameDigest(bytes: Uint8Array | readonly Uint8Array[]): Buffer {
  const hash = crypto.createHash('sha256');
  if (bytes instanceof Uint8Array) hash.update(bytes);
  else for (const b of bytes) hash.update(b);
  return hash.digest().subarray(0, FRAME_DIGEST_SIZE);
}

/** The digest a block header carries, if its file revision has one. */
export function headerDigest(block: BlockHeader): Buffer | undefined {
  const digest = (block as BlockHeader & { digest?: unknown }).digest;
  return Buffer.isBuffer(digest) && digest.length >= FRAME_DIGEST_SIZE ? digest.subarray(0, FRAME_DIGEST_SIZE) : undefined;
}
