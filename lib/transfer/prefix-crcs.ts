import { upperBound } from '../format/upper-bound.js';

/**
 * CRC32s of a file's prefixes, remembered at the chunk boundaries a sender has passed, so that
 * resuming at any offset re-reads only from the nearest boundary before it (the whole-file CRC
 * in the end frame must cover the bytes the receiver already holds). Without them each reconnect
 * re-read the file from the start up to the resume offset.
 *
 * Memory is bounded: past `limit` boundaries, the one whose neighbours lie closest together is
 * forgotten, so the stretches left to re-read stay about size / limit long.
 */
export class PrefixCrcs {
  private readonly offsets: number[] = [0];
  private readonly crcs: number[] = [0];

  constructor(private readonly limit = 4096) {}

  /** Remembers that the first `offset` bytes have CRC32 `crc`. */
  add(offset: number, crc: number): void {
    const i = upperBound(this.offsets, offset);
    if (this.offsets[i - 1] === offset) return;
    this.offsets.splice(i, 0, offset);
    this.crcs.splice(i, 0, crc);
    if (this.offsets.length > this.limit) {
      // Forget the one whose neighbours are closest together: the widest stretch left to read
      // on grows as little as it can.
      let drop = 1;
      for (let k = 2; k < this.offsets.length - 1; k++) {
        if (this.offsets[k + 1]! - this.offsets[k - 1]! < this.offsets[drop + 1]! - this.offsets[drop - 1]!) drop = k;
      }
      this.offsets.splice(drop, 1);
      this.crcs.splice(drop, 1);
    }
  }

  /** The longest remembered prefix no longer than `offset`. */
  floor(offset: number): { offset: number; crc: number } {
    const i = upperBound(this.offsets, offset) - 1;
    return { offset: this.offsets[i]!, crc: this.crcs[i]! };
  }

  /** Remembered boundaries (for tests and limits). */
  get size(): number {
    return this.offsets.length;
  }

}
