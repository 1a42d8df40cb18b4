/**
 * readFully: a positioned read that does not stop short. A read may return fewer bytes than
 * asked (a signal, a network filesystem) without the file having ended.
 */
import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';

const readFd = promisify(fs.read);

/**
 * Reads into `buf` from `position` until it is full or the file ends; returns the bytes read.
 * `file` is a FileHandle, or a descriptor number (one opened synchronously, as a view does).
 */
export async function readFully(file: FileHandle | number, buf: Uint8Array, position: number): Promise<number> {
  let filled = 0;
  while (filled < buf.length) {
    const bytesRead =
      typeof file === 'number'
        ? (await readFd(file, buf, filled, buf.length - filled, position + filled)).bytesRead
        : (await file.read(buf, filled, buf.length - filled, position + filled)).bytesRead;
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}
