/**
 * The transfer protocol's wire format (docs/PROTOCOL.md): control messages and chunk frames
 * interleaved on one byte stream, told apart by their magic numbers.
 *
 * Control message:
 *   u32 magic 0x4D504E53 ("SNPM")   u8 type   u8 flags (0)   u16 reserved (0)
 *   u32 payload length (≤ 64 KiB)   u32 CRC32 of the payload   u32 CRC32 of the 16 bytes before
 *   payload: UTF-8 JSON object
 * Chunk frames: lib/format/chunk-frame.ts.
 */
import { ProtocolError } from '../errors.js';
import { CHUNK_HEADER_SIZE, CHUNK_MAGIC, decodeChunkHeader, MAX_CHUNK_SIZE, type ChunkFrame } from '../format/chunk-frame.js';
import { crc32 } from '../format/crc32.js';
import { ByteQueue } from '../streams/byte-queue.js';

export const MESSAGE_MAGIC = 0x4d504e53;
export const MESSAGE_HEADER_SIZE = 20;
export const MAX_MESSAGE_PAYLOAD = 64 * 1024;
/**
 * The highest protocol version this build speaks. Version 2 adds the delta transfer (OFFER,
 * HAVE, COPY); a HELLO still names version 1 in `version`, which every build speaks, and the
 * highest it speaks in `maxVersion`, so an older receiver takes it as a plain version 1 HELLO.
 */
export const PROTOCOL_VERSION = 2;
/** The version every build speaks: a HELLO's `version` field. */
export const BASE_PROTOCOL_VERSION = 1;
/** Most frame digests in one OFFER message. */
export const MAX_OFFER_FRAMES = 1024;

export const MessageType = {
  HELLO: 1,
  CHALLENGE: 2,
  AUTH: 3,
  ACCEPT: 4,
  REFUSE: 5,
  ACK: 6,
  NACK: 7,
  DONE: 8,
  CANCEL: 9,
  OFFER: 10,
  HAVE: 11,
  COPY: 12,
} as const;
export type MessageTypeName = keyof typeof MessageType;

const TYPE_NAMES = new Map<number, MessageTypeName>(Object.entries(MessageType).map(([k, v]) => [v, k as MessageTypeName]));

export interface Message {
  type: MessageTypeName;
  body: Record<string, unknown>;
}

export function encodeMessage(type: MessageTypeName, body: Record<string, unknown>): Buffer {
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  if (payload.length > MAX_MESSAGE_PAYLOAD) throw new ProtocolError(`${type} message too large (${payload.length} bytes)`);
  const out = Buffer.allocUnsafe(MESSAGE_HEADER_SIZE + payload.length);
  out.writeUInt32LE(MESSAGE_MAGIC, 0);
  out[4] = MessageType[type];
  out[5] = 0;
  out.writeUInt16LE(0, 6);
  out.writeUInt32LE(payload.length, 8);
  out.writeUInt32LE(crc32(payload), 12);
  out.writeUInt32LE(crc32(out.subarray(0, 16)), 16);
  payload.copy(out, MESSAGE_HEADER_SIZE);
  return out;
}

/** What arrives on the wire: a control message or a chunk frame. */
export type WireItem = { kind: 'message'; message: Message } | { kind: 'chunk'; frame: ChunkFrame };

/**
 * Parses a byte stream into control messages and chunk frames. A chunk whose data fails its
 * CRC is still delivered (the receiver answers it with a NACK); anything that breaks the
 * framing — a damaged header, an unknown magic — is a ProtocolError: the connection cannot be
 * trusted past it and must be dropped.
 */
export class WireParser {
  private readonly input = new ByteQueue();
  private pendingChunk: Omit<ChunkFrame, 'data'> | null = null;
  private position = 0;
  /**
   * Whether chunk frames are taken. A receiver refuses them until its peer has authenticated:
   * the first four bytes of one are then a ProtocolError, before a byte of its data is held.
   */
  chunks = true;

  constructor(private readonly maxChunkSize = MAX_CHUNK_SIZE) {}

  push(data: Buffer): void {
    this.input.push(data);
  }

  /** Drops what is buffered: after a ProtocolError nothing more is parsed. */
  clear(): void {
    this.input.skip(this.input.length);
    this.pendingChunk = null;
  }

  /** The next complete item, or null until more bytes arrive. */
  next(): WireItem | null {
    if (this.pendingChunk) return this.chunkData(this.pendingChunk);
    if (this.input.length < 4) return null;
    const magic = this.input.peek(0, 4).readUInt32LE(0);
    if (magic === CHUNK_MAGIC) {
      if (!this.chunks) throw new ProtocolError(`a chunk frame at byte ${this.position}, before the handshake is complete`, { offset: this.position });
      if (this.input.length < CHUNK_HEADER_SIZE) return null;
      const header = this.guard(() => decodeChunkHeader(this.input.peek(0, CHUNK_HEADER_SIZE), this.position, this.maxChunkSize));
      this.consume(CHUNK_HEADER_SIZE);
      if (header.length === 0) return { kind: 'chunk', frame: { ...header, data: Buffer.alloc(0) } };
      this.pendingChunk = header;
      return this.chunkData(header);
    }
    if (magic !== MESSAGE_MAGIC) throw new ProtocolError(`unknown frame magic 0x${magic.toString(16)} at byte ${this.position}`, { offset: this.position });
    if (this.input.length < MESSAGE_HEADER_SIZE) return null;
    const h = this.input.peek(0, MESSAGE_HEADER_SIZE);
    if (crc32(h.subarray(0, 16)) !== h.readUInt32LE(16)) throw new ProtocolError(`damaged message header at byte ${this.position}`, { offset: this.position });
    const length = h.readUInt32LE(8);
    const type = TYPE_NAMES.get(h[4]!);
    if (!type || length > MAX_MESSAGE_PAYLOAD) throw new ProtocolError(`bad message (type ${h[4]}, ${length} bytes) at byte ${this.position}`, { offset: this.position });
    if (this.input.length < MESSAGE_HEADER_SIZE + length) return null;
    const payloadCrc = h.readUInt32LE(12);
    this.consume(MESSAGE_HEADER_SIZE);
    const payload = this.input.take(length).data;
    this.position += length;
    if (crc32(payload) !== payloadCrc) throw new ProtocolError(`damaged ${type} message at byte ${this.position - length}`);
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      body = null;
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ProtocolError(`${type} message is not a JSON object`);
    return { kind: 'message', message: { type, body: body as Record<string, unknown> } };
  }

  private chunkData(header: Omit<ChunkFrame, 'data'>): WireItem | null {
    if (this.input.length < header.length) return null;
    this.pendingChunk = null;
    // The data stays in the pieces the socket delivered: no copy into one buffer.
    const parts = this.input.takeParts(header.length);
    this.position += header.length;
    return { kind: 'chunk', frame: { ...header, parts } };
  }

  private consume(n: number): void {
    this.input.skip(n);
    this.position += n;
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw new ProtocolError(`damaged chunk header at byte ${this.position}: ${(err as Error).message}`, { offset: this.position, cause: err });
    }
  }
}
