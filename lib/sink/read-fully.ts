/**
 * readFully: a positioned read that does not stop short. `FileHandle.read` may return fewer
 * bytes than asked (a signal, a network filesystem) without the file having ended.
 */
import type { FileHandle } from 'node:fs/promises';

/** Reads into `buf` from `position` until it is full or the file ends; returns the bytes read. */
export async function readFully(file: FileHandle, buf: Uint8Array, position: number): Promise<number> {
  let filled = 0;
  while (filled < buf.length) {
    const { bytesRead } = await file.read(buf, filled, buf.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}
