/**
 * snapstream's metadata frames: standard skippable frames (magic 0x184D2A5A, u32 LE payload
 * length), so stock zstd and lz4 decoders pass over them. Each payload starts with a 4-byte
 * ASCII tag naming the frame type.
 */
export const SNAP_SKIPPABLE_MAGIC = 0x184d2a5a;
export const SKIPPABLE_HEADER = 8;

export const TAG_HEADER = 'SNAP';
export const TAG_BLOCK = 'SBLK';
export const TAG_FOOTER = 'SEND';
export const TAG_CRC = 'SCRC';

/** Writes a skippable frame header for `payloadLength` bytes at `at`. */
export function writeSkippableHeader(buf: Buffer, payloadLength: number, at = 0): void {
  buf.writeUInt32LE(SNAP_SKIPPABLE_MAGIC, at);
  buf.writeUInt32LE(payloadLength, at + 4);
}
