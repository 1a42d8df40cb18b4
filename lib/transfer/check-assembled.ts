/**
 * The last check of a file a delta transfer assembled, before it is installed: every metadata
 * frame (header, each block header, footer) read back and checked against its own CRC32, the
 * frames in place one after the other, and the chain of CRCs closed — each block header's and
 * the footer's CRC of everything before them, computed from the metadata frames' bytes and the
 * data frames' CRC32s in their block headers, and the CRC32 of the whole file as it was written
 * (`crc`) equal to what those add up to. So every data frame is checked against its block
 * header's CRC (as a whole: the CRC of the file is linear in the frames' CRCs), without reading
 * the data again. The metadata frames a delta receiver kept from the wire ({@link KeptBytes}) are
 * read from memory: the partial was written around the page cache, so each read of it is the
 * disk's.
 */
import fsp from 'node:fs/promises';
import { ChecksumError, FormatError } from '../errors.js';
import { crc32, crc32Combine } from '../format/crc32.js';
import { SKIPPABLE_HEADER } from '../format/skippable.js';
import { readAtSync, walkSnapshotFrames } from '../snapshot/block-index.js';
import type { KeptBytes } from './kept-bytes.js';

/**
 * Throws a corruption error unless the `length`-byte snapshot at `file`, whose CRC32 is `crc`,
 * checks out. `kept`: bytes of it known to be what was written, read from there.
 */
export async function checkAssembledSnapshot(file: string, length: number, crc: number, kept?: KeptBytes): Promise<void> {
  const handle = await fsp.open(file, 'r');
  // What was kept, when it holds the whole read, or the whole frame starting there (a first read
  // asks for more than a frame may need); else the file.
  const fromMemory = (position: number, want: number): Buffer | null => {
    const b = kept!.read(position, want);
    if (!b || b.length === want) return b;
    return b.length >= SKIPPABLE_HEADER && SKIPPABLE_HEADER + b.readUInt32LE(4) <= b.length ? b : null;
  };
  try {
    let running = 0;
    let end = 0;
    // The file was just written: its metadata frames are read in place (synchronously, in slices).
    const read = kept ? (f: typeof handle, position: number, want: number) => fromMemory(position, want) ?? readAtSync(f, position, want) : undefined;
    for await (const f of walkSnapshotFrames(handle, length, { sync: true, ...(read ? { read } : {}) })) {
      if (f.offset !== end) throw new FormatError(`a frame at byte ${f.offset} where one should start at ${end}`, { offset: f.offset });
      if (f.kind === 'block' && f.block.prefixCrc !== running) {
        throw new ChecksumError(`block ${f.block.seq}: the CRC of the file before it does not match its header`, { offset: f.offset, expected: f.block.prefixCrc, actual: running });
      }
      if (f.kind === 'footer' && (f.footer.prefixCrc !== running || f.footer.offset !== f.offset)) {
        throw new ChecksumError('the footer does not match the file before it', { offset: f.offset, expected: f.footer.prefixCrc, actual: running });
      }
      running = crc32(f.bytes, running);
      end = f.offset + f.size;
      if (f.kind === 'block') {
        running = crc32Combine(running, f.block.frameCrc, f.block.frameLength);
        end += f.block.frameLength;
      }
    }
    if (end !== length) throw new FormatError(`${length - end} bytes after the footer`, { offset: end });
    if (running !== crc) {
      throw new ChecksumError("the file's data frames do not match the CRC32s in their block headers", { expected: running, actual: crc });
    }
  } finally {
    await handle.close();
  }
}
