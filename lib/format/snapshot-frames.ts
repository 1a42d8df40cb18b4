/**
 * The three metadata frames of a snapshot file (docs/FORMAT.md): header, block header, footer.
 * Each is a skippable frame whose payload begins with a tag and ends with the CRC32 of the
 * payload before it.
 */
import { ChecksumError, FormatError, InvalidArgumentError, LimitError, UnsupportedError } from '../errors.js';
import { readU64, writeU64 } from './binary.js';
import { CODEC_IDS, codecFromId, MAX_BLOCK_SIZE, MIN_BLOCK_SIZE, type CodecName } from './codec-ids.js';
import { crc32 } from './crc32.js';
import { FRAME_DIGEST_BYTES } from './frame-digest.js';
import { SKIPPABLE_HEADER, SNAP_SKIPPABLE_MAGIC, TAG_BLOCK, TAG_FOOTER, TAG_HEADER, writeSkippableHeader } from './skippable.js';

/** The snapshot file format version this build writes (docs/FORMAT.md). */
export const FORMAT_VERSION = 1;
/** Largest JSON metadata or cursor accepted, in bytes. */
export const MAX_JSON_BYTES = 1024 * 1024;
/** Largest payload a snapstream metadata frame may have. */
export const MAX_META_PAYLOAD = MAX_JSON_BYTES + 64;

/**
 * Header flag bit 0 (the header's flags byte, body offset 7): every block header carries the
 * data frame's digest. A must-understand flag: readers before it refuse the file
 * (`SNAP_ERR_UNSUPPORTED`), never misread it.
 */
export const HEADER_FLAG_DIGESTS = 0x01;
const KNOWN_HEADER_FLAGS = HEADER_FLAG_DIGESTS;

const HEADER_FIXED = 24;
const BLOCK_FIXED = 60;
const FOOTER_FIXED = 36;
/** Size of the footer frame in bytes. */
export const FOOTER_FRAME_SIZE = SKIPPABLE_HEADER + FOOTER_FIXED + 4;

/** The header frame at the start of a snapshot file. */
export interface SnapshotHeader {
  /** Format version ({@link FORMAT_VERSION}). */
  version: number;
  /** Codec of every data frame. */
  codec: CodecName;
  /** Raw bytes per block the writer aimed at (blocks never split a record). */
  blockSize: number;
  /** Creation time, ms since the epoch. */
  createdAt: number;
  /** User metadata (Raft index and term, anything JSON). */
  meta: Record<string, unknown>;
  /**
   * True when every block header carries its data frame's {@link BlockHeader.digest} (header
   * flag bit 0). Absent in files written without digests (every file before the revision).
   */
  digests?: boolean;
}

/** The frame before each block's data frame. */
export interface BlockHeader {
  /** Block number, from 0. */
  seq: number;
  /** Length of the data frame that follows. */
  frameLength: number;
  /** Bytes the data frame decompresses to. */
  rawLength: number;
  /** CRC32 of the data frame. */
  frameCrc: number;
  /** File offset of this block header frame. */
  offset: number;
  /** CRC32 of every file byte before this block header frame. */
  prefixCrc: number;
  /** Entries in this block. */
  entries: number;
  /** Entries in blocks 0..seq. */
  entriesTotal: number;
  /** Raw bytes in blocks 0..seq. */
  rawTotal: number;
  /** Source cursor after this block's last entry. */
  cursor: unknown;
  /**
   * The data frame's identity: the first 16 bytes of SHA-256 over its `frameLength` bytes as
   * stored. Present in files whose header has {@link SnapshotHeader.digests}; undefined before.
   */
  digest?: Buffer;
}

/** The footer frame that ends a finished snapshot file. */
export interface SnapshotFooter {
  /** Blocks in the file. */
  blocks: number;
  /** Entries in the file. */
  entriesTotal: number;
  /** Raw (uncompressed) bytes of encoded entries in the file. */
  rawTotal: number;
  /** File offset of the footer frame: the length of everything before it. */
  offset: number;
  /** CRC32 of every byte before the footer frame. */
  prefixCrc: number;
}

function jsonBytes(value: unknown, what: string): Buffer {
  const text = JSON.stringify(value === undefined ? null : value);
  if (text === undefined) throw new InvalidArgumentError(`${what} must be JSON-serialisable`);
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > MAX_JSON_BYTES) {
    throw new InvalidArgumentError(`${what} is ${bytes.length} bytes of JSON, over the limit of ${MAX_JSON_BYTES}`);
  }
  return bytes;
}

/** Allocates a frame with room for `fixed` + `extra` payload bytes and a CRC; writes the tag. */
function frameFor(tag: string, payload: number): Buffer {
  const frame = Buffer.allocUnsafe(SKIPPABLE_HEADER + payload + 4);
  writeSkippableHeader(frame, payload + 4);
  frame.write(tag, SKIPPABLE_HEADER, 'latin1');
  return frame;
}

function sealFrame(frame: Buffer): Buffer {
  const end = frame.length - 4;
  frame.writeUInt32LE(crc32(frame.subarray(SKIPPABLE_HEADER, end)), end);
  return frame;
}

export function encodeHeader(header: Omit<SnapshotHeader, 'version'>): Buffer {
  const meta = jsonBytes(header.meta, 'meta');
  const f = frameFor(TAG_HEADER, HEADER_FIXED + meta.length);
  const p = SKIPPABLE_HEADER;
  f.writeUInt16LE(FORMAT_VERSION, p + 4);
  f[p + 6] = CODEC_IDS[header.codec];
  f[p + 7] = header.digests === true ? HEADER_FLAG_DIGESTS : 0;
  f.writeUInt32LE(header.blockSize, p + 8);
  writeU64(f, header.createdAt, p + 12);
  f.writeUInt32LE(meta.length, p + 20);
  meta.copy(f, p + HEADER_FIXED);
  return sealFrame(f);
}

/** A block header frame; with `block.digest` set, the digest follows the cursor (a file whose header has `digests`). */
export function encodeBlockHeader(block: BlockHeader): Buffer {
  const cursor = jsonBytes(block.cursor, 'cursor');
  const digest = block.digest;
  if (digest !== undefined && digest.length !== FRAME_DIGEST_BYTES) {
    throw new InvalidArgumentError(`a frame digest is ${FRAME_DIGEST_BYTES} bytes, got ${digest.length}`);
  }
  const f = frameFor(TAG_BLOCK, BLOCK_FIXED + cursor.length + (digest ? FRAME_DIGEST_BYTES : 0));
  const p = SKIPPABLE_HEADER;
  f.writeUInt32LE(block.seq, p + 4);
  f.writeUInt32LE(block.frameLength, p + 8);
  f.writeUInt32LE(block.rawLength, p + 12);
  f.writeUInt32LE(block.frameCrc, p + 16);
  writeU64(f, block.offset, p + 20);
  f.writeUInt32LE(block.prefixCrc, p + 28);
  writeU64(f, block.entries, p + 32);
  writeU64(f, block.entriesTotal, p + 40);
  writeU64(f, block.rawTotal, p + 48);
  f.writeUInt32LE(cursor.length, p + 56);
  cursor.copy(f, p + BLOCK_FIXED);
  if (digest) digest.copy(f, p + BLOCK_FIXED + cursor.length);
  return sealFrame(f);
}

export function encodeFooter(footer: SnapshotFooter): Buffer {
  const f = frameFor(TAG_FOOTER, FOOTER_FIXED);
  const p = SKIPPABLE_HEADER;
  f.writeUInt32LE(footer.blocks, p + 4);
  writeU64(f, footer.entriesTotal, p + 8);
  writeU64(f, footer.rawTotal, p + 16);
  writeU64(f, footer.offset, p + 24);
  f.writeUInt32LE(footer.prefixCrc, p + 32);
  return sealFrame(f);
}

/**
 * Reads the skippable frame header at the start of `buf`: the payload length, or null if fewer
 * than 8 bytes are there. Anything but a snapstream metadata frame of sane size is an error.
 */
export function metaFrameLength(buf: Buffer, offset: number): number | null {
  if (buf.length < SKIPPABLE_HEADER) return null;
  const magic = buf.readUInt32LE(0);
  if (magic !== SNAP_SKIPPABLE_MAGIC) {
    throw new FormatError(`expected a snapstream frame at byte ${offset}, found magic 0x${magic.toString(16)}`, {
      offset,
      expected: SNAP_SKIPPABLE_MAGIC,
      actual: magic,
    });
  }
  const size = buf.readUInt32LE(4);
  if (size > MAX_META_PAYLOAD) {
    throw new LimitError(`metadata frame at byte ${offset} claims ${size} bytes, over the limit of ${MAX_META_PAYLOAD}`, {
      offset,
      expected: MAX_META_PAYLOAD,
      actual: size,
    });
  }
  if (size < 8) throw new FormatError(`metadata frame at byte ${offset} is too short`, { offset, actual: size });
  return size;
}

/** Checks a whole metadata frame's tag and CRC; returns its payload (tag included, CRC excluded). */
function openFrame(frame: Buffer, tag: string, offset: number, minPayload: number): Buffer {
  const payload = frame.subarray(SKIPPABLE_HEADER, frame.length - 4);
  const expected = frame.readUInt32LE(frame.length - 4);
  const actual = crc32(payload);
  if (expected !== actual) {
    throw new ChecksumError(`${tag} frame at byte ${offset} fails its CRC32`, { offset, expected, actual });
  }
  const found = payload.toString('latin1', 0, 4);
  if (found !== tag) {
    throw new FormatError(`expected a ${tag} frame at byte ${offset}, found ${JSON.stringify(found)}`, {
      offset,
      expected: tag,
      actual: found,
    });
  }
  if (payload.length < minPayload) {
    throw new FormatError(`${tag} frame at byte ${offset} is too short`, { offset, actual: payload.length });
  }
  return payload;
}

/** The reader's side of {@link MAX_JSON_BYTES} (the frame size limit alone allows a few bytes more). */
function checkJsonLength(length: number, what: string, offset: number): void {
  if (length > MAX_JSON_BYTES) {
    throw new LimitError(`${what} at byte ${offset} is ${length} bytes, over the limit of ${MAX_JSON_BYTES}`, {
      offset,
      expected: MAX_JSON_BYTES,
      actual: length,
    });
  }
}

function parseJson(bytes: Buffer, what: string, offset: number): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw new FormatError(`${what} at byte ${offset} is not valid JSON`, { offset, cause });
  }
}

/** The tag of a whole metadata frame (without checking it). */
export function frameTag(frame: Buffer): string {
  return frame.toString('latin1', SKIPPABLE_HEADER, SKIPPABLE_HEADER + 4);
}

export function decodeHeader(frame: Buffer, offset = 0): SnapshotHeader {
  const p = openFrame(frame, TAG_HEADER, offset, HEADER_FIXED);
  const version = p.readUInt16LE(4);
  if (version !== FORMAT_VERSION) {
    throw new UnsupportedError(`snapshot format version ${version} (this build reads ${FORMAT_VERSION})`, {
      offset,
      expected: FORMAT_VERSION,
      actual: version,
    });
  }
  const codec = codecFromId(p[6]!, offset);
  const flags = p[7]!;
  if ((flags & ~KNOWN_HEADER_FLAGS) !== 0) {
    throw new UnsupportedError(`header at byte ${offset} sets flags 0x${flags.toString(16)} this build does not know`, { offset, actual: flags });
  }
  const blockSize = p.readUInt32LE(8);
  if (blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE) {
    throw new FormatError(`header at byte ${offset}: block size ${blockSize} is out of range`, { offset, actual: blockSize });
  }
  const metaLength = p.readUInt32LE(20);
  checkJsonLength(metaLength, 'header metadata', offset);
  if (HEADER_FIXED + metaLength !== p.length) {
    throw new FormatError(`header at byte ${offset}: metadata length does not fit the frame`, { offset });
  }
  const meta = parseJson(p.subarray(HEADER_FIXED), 'header metadata', offset);
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
    throw new FormatError(`header metadata at byte ${offset} is not a JSON object`, { offset });
  }
  return {
    version,
    codec,
    blockSize,
    createdAt: readU64(p, 12),
    meta: meta as Record<string, unknown>,
    ...((flags & HEADER_FLAG_DIGESTS) !== 0 ? { digests: true } : {}),
  };
}

/**
 * Decodes a block header frame. `digests`: the file's header has {@link SnapshotHeader.digests},
 * so the body ends with the data frame's 16-byte digest after the cursor.
 */
export function decodeBlockHeader(frame: Buffer, offset: number, digests = false): BlockHeader {
  const p = openFrame(frame, TAG_BLOCK, offset, BLOCK_FIXED);
  const cursorLength = p.readUInt32LE(56);
  const digestBytes = digests ? FRAME_DIGEST_BYTES : 0;
  if (BLOCK_FIXED + cursorLength + digestBytes !== p.length) {
    throw new FormatError(
      `block header at byte ${offset}: cursor length ${digests ? 'and frame digest do' : 'does'} not fit the frame`,
      { offset, expected: BLOCK_FIXED + cursorLength + digestBytes, actual: p.length },
    );
  }
  const cursorEnd = BLOCK_FIXED + cursorLength;
  return {
    seq: p.readUInt32LE(4),
    frameLength: p.readUInt32LE(8),
    rawLength: p.readUInt32LE(12),
    frameCrc: p.readUInt32LE(16),
    offset: readU64(p, 20),
    prefixCrc: p.readUInt32LE(28),
    entries: readU64(p, 32),
    entriesTotal: readU64(p, 40),
    rawTotal: readU64(p, 48),
    cursor: parseJson(p.subarray(BLOCK_FIXED, cursorEnd), 'block cursor', offset),
    ...(digests ? { digest: Buffer.from(p.subarray(cursorEnd, cursorEnd + FRAME_DIGEST_BYTES)) } : {}),
  };
}

export function decodeFooter(frame: Buffer, offset: number): SnapshotFooter {
  const p = openFrame(frame, TAG_FOOTER, offset, FOOTER_FIXED);
  if (p.length !== FOOTER_FIXED) throw new FormatError(`footer at byte ${offset} has the wrong size`, { offset });
  return {
    blocks: p.readUInt32LE(4),
    entriesTotal: readU64(p, 8),
    rawTotal: readU64(p, 16),
    offset: readU64(p, 24),
    prefixCrc: p.readUInt32LE(32),
  };
}
