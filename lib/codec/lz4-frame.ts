/**
 * LZ4 frames through lz4-napi (async, on libuv's thread pool, so several run at once), with the
 * content size written into each frame header so a reader knows a frame's size before decoding.
 */
import lz4 from 'lz4-napi';
import { xxhash32 } from './xxhash32.js';

const FLG_CONTENT_SIZE = 0x08;

/** Compresses `data` into one LZ4 frame that declares its content size. */
export async function compressLz4Frame(data: Uint8Array): Promise<Buffer> {
  return withContentSize(await lz4.compressFrame(data), data.length);
}

/** Decodes one whole LZ4 frame. */
export function decompressLz4Frame(frame: Uint8Array): Promise<Buffer> {
  return lz4.decompressFrame(frame);
}

/**
 * Rewrites a frame header (magic, FLG, BD, [dict id], HC) to carry `size` as its content size,
 * recomputing the header checksum. Frames that already carry one are returned as they are.
 */
export function withContentSize(frame: Buffer, size: number): Buffer {
  const flg = frame[4]!;
  if (flg & FLG_CONTENT_SIZE) return frame;
  const out = Buffer.allocUnsafe(frame.length + 8);
  frame.copy(out, 0, 0, 6);
  out[4] = flg | FLG_CONTENT_SIZE;
  out.writeUInt32LE(size % 0x1_0000_0000, 6);
  out.writeUInt32LE(Math.floor(size / 0x1_0000_0000), 10);
  // The rest of the descriptor (dict id, if any) follows the content size; then HC.
  const restEnd = 6 + (flg & 0x01 ? 4 : 0);
  frame.copy(out, 14, 6, restEnd);
  const hcAt = 14 + (restEnd - 6);
  out[hcAt] = (xxhash32(out.subarray(4, hcAt)) >>> 8) & 0xff;
  frame.copy(out, hcAt + 1, restEnd + 1);
  return out;
}
