/** Blocks as they travel between stages in block mode (`blocks: true`). */

/** A block of whole entry records, as the entry encoder makes it. */
export interface RawBlock {
  /** Encoded records; never splits a record. */
  data: Buffer;
  /** Entries in this block. */
  entries: number;
  /** The source cursor after this block's last entry (JSON-serialisable). */
  cursor?: unknown;
}

/** A block compressed into one standard frame. */
export interface CompressedBlock {
  /** One complete zstd or LZ4 frame. */
  frame: Buffer;
  /** CRC32 of `frame`. */
  crc: number;
  /**
   * The frame's digest (lib/format/frame-digest.ts: SHA-256 of `frame`, first 16 bytes), when
   * the compressor made it; a SnapshotFramer that writes digests computes any that is missing.
   */
  digest?: Buffer;
  /** Bytes the frame decompresses to. */
  rawLength: number;
  /** Entries in this block. */
  entries: number;
  /** The source cursor after this block's last entry (JSON-serialisable). */
  cursor?: unknown;
}
