/**
 * An independent reader of snapshot files, written from docs/FORMAT.md alone: it imports nothing
 * from lib/, only node:zlib's crc32 and, to decompress data frames, zstd-napi and lz4-napi. It
 * parses every golden snapshot, checks every invariant the spec lists, and must arrive at the
 * entries, header, blocks and raw stream the golden descriptions give. A few damaged copies show
 * that its checks bite. If this test needs anything FORMAT.md does not say, the spec is short.
 */
import t from 'tap';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import zstd from 'zstd-napi';
import lz4 from 'lz4-napi';

const GOLDEN = fileURLToPath(new URL('../fixtures/golden/', import.meta.url));

// ---------------------------------------------------------------------------------------------
// Constants from docs/FORMAT.md.

const SNAP_MAGIC = 0x184d2a5a; // skippable frame magic used by every snapstream metadata frame
const ZSTD_MAGIC = 0xfd2fb528;
const LZ4_MAGIC = 0x184d2204;
const MAX_META_PAYLOAD = 1024 * 1024 + 64; // skippable frame payload length of a metadata frame
const MAX_JSON = 1024 * 1024;
const MAX_RAW = 256 * 1024 * 1024;
const MAX_FRAME = 257 * 1024 * 1024;
const MAX_RECORD = 256 * 1024 * 1024; // key + value
const CODECS = ['none', 'zstd', 'lz4'] as const;
type Codec = (typeof CODECS)[number];

class SpecViolation extends Error {
  override name = 'SpecViolation';
}

function need(ok: boolean, what: string): asserts ok {
  if (!ok) throw new SpecViolation(what);
}

const crc32 = (data: Uint8Array, prev = 0): number => zlib.crc32(data, prev);

function u64(b: Buffer, at: number): number {
  const lo = b.readUInt32LE(at);
  const hi = b.readUInt32LE(at + 4);
  need(hi < 0x20_0000, `u64 at ${at} is 2^53 or more`);
  return hi * 0x1_0000_0000 + lo;
}

// ---------------------------------------------------------------------------------------------
// xxHash32 (for the LZ4 frame descriptor's header checksum).

function xxh32(data: Uint8Array, seed = 0): number {
  const P1 = 0x9e3779b1, P2 = 0x85ebca77, P3 = 0xc2b2ae3d, P4 = 0x27d4eb2f, P5 = 0x165667b1;
  const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));
  const rd = (i: number) => (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) | 0;
  const round = (acc: number, lane: number) => Math.imul(rotl((acc + Math.imul(lane, P2)) | 0, 13), P1);
  let i = 0;
  let h: number;
  if (data.length >= 16) {
    let v1 = (seed + P1 + P2) | 0, v2 = (seed + P2) | 0, v3 = seed | 0, v4 = (seed - P1) | 0;
    for (; i + 16 <= data.length; i += 16) {
      v1 = round(v1, rd(i));
      v2 = round(v2, rd(i + 4));
      v3 = round(v3, rd(i + 8));
      v4 = round(v4, rd(i + 12));
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else h = (seed + P5) | 0;
  h = (h + data.length) | 0;
  for (; i + 4 <= data.length; i += 4) h = Math.imul(rotl((h + Math.imul(rd(i), P3)) | 0, 17), P4);
  for (; i < data.length; i++) h = Math.imul(rotl((h + Math.imul(data[i]!, P5)) | 0, 11), P1);
  h ^= h >>> 15;
  h = Math.imul(h, P2);
  h ^= h >>> 13;
  h = Math.imul(h, P3);
  h ^= h >>> 16;
  return h >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Data frames: walk the frame structure to its exact end and read the declared content size.

/** Walks one zstd frame (RFC 8878); returns its Frame_Content_Size and total length. */
function walkZstd(f: Buffer): { contentSize: number; length: number } {
  need(f.length >= 6 && f.readUInt32LE(0) === ZSTD_MAGIC, 'zstd magic');
  const fhd = f[4]!;
  const fcsFlag = fhd >>> 6;
  const single = (fhd >>> 5) & 1;
  const checksum = (fhd >>> 2) & 1;
  need((fhd & 0x08) === 0, 'zstd reserved bit');
  need((fhd & 0x03) === 0, 'no dictionary id');
  let at = 5 + (single ? 0 : 1);
  const fcsSize = fcsFlag === 0 ? (single ? 1 : 0) : [0, 2, 4, 8][fcsFlag]!;
  need(fcsSize > 0, 'zstd frame declares its content size');
  const contentSize =
    fcsSize === 1 ? f[at]! : fcsSize === 2 ? f.readUInt16LE(at) + 256 : fcsSize === 4 ? f.readUInt32LE(at) : u64(f, at);
  at += fcsSize;
  for (;;) {
    need(at + 3 <= f.length, 'zstd block header inside the frame');
    const bh = f.readUIntLE(at, 3);
    const type = (bh >>> 1) & 3;
    const size = bh >>> 3;
    need(type !== 3, 'zstd block type');
    need(size <= 128 * 1024, 'zstd block size');
    at += 3 + (type === 1 ? 1 : size);
    if (bh & 1) break;
  }
  at += checksum ? 4 : 0;
  return { contentSize, length: at };
}

/** Walks one LZ4 frame; returns its content size and total length. Checks the header checksum. */
function walkLz4(f: Buffer): { contentSize: number; length: number } {
  need(f.length >= 15 && f.readUInt32LE(0) === LZ4_MAGIC, 'lz4 magic');
  const flg = f[4]!;
  const bd = f[5]!;
  need(flg >>> 6 === 1, 'lz4 version 01');
  need((flg & 0x02) === 0 && (bd & 0x8f) === 0, 'lz4 reserved bits');
  need((flg & 0x08) !== 0, 'lz4 frame declares its content size');
  need((flg & 0x01) === 0, 'no dictionary id');
  const blockMax = 1 << (8 + 2 * ((bd >>> 4) & 7));
  need(((bd >>> 4) & 7) >= 4, 'lz4 block max size id');
  const contentSize = u64(f, 6);
  need(f[14] === ((xxh32(f.subarray(4, 14)) >>> 8) & 0xff), 'lz4 header checksum');
  let at = 15;
  for (;;) {
    need(at + 4 <= f.length, 'lz4 block size inside the frame');
    const word = f.readUInt32LE(at);
    at += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    need(size <= blockMax, 'lz4 block size');
    at += size + (flg & 0x10 ? 4 : 0);
  }
  at += flg & 0x04 ? 4 : 0;
  return { contentSize, length: at };
}

/** The frame the spec says codec `none` must produce for `raw`: a zstd frame of raw blocks. */
function storedFrame(raw: Buffer): Buffer {
  const n = raw.length;
  const fcs = n < 256 ? 1 : n < 65536 + 256 ? 2 : n < 2 ** 32 ? 4 : 8;
  const head = Buffer.alloc(5 + fcs);
  head.writeUInt32LE(ZSTD_MAGIC, 0);
  head[4] = 0x20 | ({ 1: 0, 2: 1, 4: 2, 8: 3 }[fcs]! << 6);
  if (fcs === 1) head[5] = n;
  else if (fcs === 2) head.writeUInt16LE(n - 256, 5);
  else if (fcs === 4) head.writeUInt32LE(n, 5);
  else head.writeBigUInt64LE(BigInt(n), 5);
  const parts: Buffer[] = [head];
  let from = 0;
  do {
    const size = Math.min(128 * 1024, n - from);
    const bh = Buffer.alloc(3);
    bh.writeUIntLE((size << 3) | (from + size === n ? 1 : 0), 0, 3);
    parts.push(bh, raw.subarray(from, from + size));
    from += size;
  } while (from < n);
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------
// Entry records.

interface Rec {
  key: Buffer | string;
  value: Buffer | string;
  expiresAt?: number;
}

function parseRecords(raw: Buffer): Rec[] {
  const out: Rec[] = [];
  let at = 0;
  while (at < raw.length) {
    need(at + 9 <= raw.length, 'record header inside the block');
    const flags = raw[at]!;
    need((flags & 0xf8) === 0, 'unknown record flags');
    const kl = raw.readUInt32LE(at + 1);
    const vl = raw.readUInt32LE(at + 5);
    need(kl + vl <= MAX_RECORD, 'record within 256 MiB');
    let p = at + 9;
    let expiresAt: number | undefined;
    if (flags & 1) {
      need(p + 8 <= raw.length, 'expiry inside the block');
      expiresAt = u64(raw, p);
      p += 8;
    }
    need(p + kl + vl <= raw.length, 'record inside the block');
    const k = raw.subarray(p, p + kl);
    const v = raw.subarray(p + kl, p + kl + vl);
    const rec: Rec = { key: flags & 2 ? k.toString('utf8') : Buffer.from(k), value: flags & 4 ? v.toString('utf8') : Buffer.from(v) };
    if (expiresAt !== undefined) rec.expiresAt = expiresAt;
    out.push(rec);
    at = p + kl + vl;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The snapshot file.

interface Header {
  version: number;
  codec: Codec;
  blockSize: number;
  createdAt: number;
  meta: unknown;
  /** Header flag bit 0: every block header ends with its frame's digest. */
  digests?: boolean;
}

interface Block {
  seq: number;
  offset: number;
  frameOffset: number;
  frameLength: number;
  rawLength: number;
  frameCrc: number;
  prefixCrc: number;
  entries: number;
  entriesTotal: number;
  rawTotal: number;
  cursor: unknown;
  /** First 16 bytes of SHA-256 of the data frame, hex (files with header flag bit 0). */
  digest?: string;
}

interface Footer {
  blocks: number;
  entriesTotal: number;
  rawTotal: number;
  offset: number;
  prefixCrc: number;
}

/** Opens the metadata frame at `at`: checks magic, length limits, bounds and CRC; returns tag and body. */
function metaFrame(file: Buffer, at: number): { tag: string; body: Buffer; size: number } {
  need(at + 8 <= file.length, `metadata frame header at ${at}`);
  need(file.readUInt32LE(at) === SNAP_MAGIC, `skippable magic 0x184D2A5A at ${at}`);
  const len = file.readUInt32LE(at + 4);
  need(len >= 8 && len <= MAX_META_PAYLOAD, `metadata frame length at ${at}`);
  need(at + 8 + len <= file.length, `metadata frame at ${at} inside the file`);
  const body = file.subarray(at + 8, at + 8 + len - 4);
  need(crc32(body) === file.readUInt32LE(at + 8 + len - 4), `metadata frame CRC at ${at}`);
  return { tag: body.toString('latin1', 0, 4), body, size: 8 + len };
}

function json(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new SpecViolation(`${what} is not JSON`);
  }
}

function readSnapshotFile(file: Buffer): { header: Header; blocks: Block[]; footer: Footer; entries: Rec[]; raw: Buffer } {
  // Header frame.
  const h = metaFrame(file, 0);
  need(h.tag === 'SNAP', 'header tag');
  const hb = h.body;
  need(hb.length >= 24, 'header size');
  const version = hb.readUInt16LE(4);
  need(version === 1, 'format version 1');
  const codec = CODECS[hb[6]!];
  need(codec !== undefined, 'known codec id');
  const flags = hb[7]!;
  need((flags & ~0x01) === 0, 'only known header flags (bit 0: frame digests)');
  const digests = (flags & 0x01) !== 0;
  need(hb.readUInt32LE(8) >= 4096 && hb.readUInt32LE(8) <= 67_108_864, 'block size 4 KiB to 64 MiB');
  const metaLength = hb.readUInt32LE(20);
  need(metaLength <= MAX_JSON && 24 + metaLength === hb.length, 'header metadata length');
  const meta = json(hb.subarray(24), 'header metadata');
  need(meta !== null && typeof meta === 'object' && !Array.isArray(meta), 'metadata is a JSON object');
  const header: Header = { version, codec, blockSize: hb.readUInt32LE(8), createdAt: u64(hb, 12), meta, ...(digests ? { digests: true } : {}) };

  const blocks: Block[] = [];
  const entries: Rec[] = [];
  const raws: Buffer[] = [];
  let at = h.size;
  let runningCrc = crc32(file.subarray(0, at));
  let entriesTotal = 0;
  let rawTotal = 0;
  for (;;) {
    const m = metaFrame(file, at);
    if (m.tag === 'SEND') {
      const b = m.body;
      need(b.length === 36, 'footer size');
      const footer: Footer = {
        blocks: b.readUInt32LE(4),
        entriesTotal: u64(b, 8),
        rawTotal: u64(b, 16),
        offset: u64(b, 24),
        prefixCrc: b.readUInt32LE(32),
      };
      need(footer.offset === at, 'footer offset');
      need(footer.prefixCrc === runningCrc, 'footer running CRC');
      need(footer.blocks === blocks.length, 'footer block count');
      need(footer.entriesTotal === entriesTotal, 'footer entry total');
      need(footer.rawTotal === rawTotal, 'footer byte total');
      need(at + m.size === file.length, 'nothing after the footer');
      return { header, blocks, footer, entries, raw: Buffer.concat(raws) };
    }
    need(m.tag === 'SBLK', `block header or footer tag at ${at}`);
    const b = m.body;
    need(b.length >= 60, 'block header size');
    const cursorLength = b.readUInt32LE(56);
    const digestLength = digests ? 16 : 0;
    need(cursorLength <= MAX_JSON && 60 + cursorLength + digestLength === b.length, 'cursor length (and digest)');
    const block: Block = {
      seq: b.readUInt32LE(4),
      offset: u64(b, 20),
      frameOffset: at + m.size,
      frameLength: b.readUInt32LE(8),
      rawLength: b.readUInt32LE(12),
      frameCrc: b.readUInt32LE(16),
      prefixCrc: b.readUInt32LE(28),
      entries: u64(b, 32),
      entriesTotal: u64(b, 40),
      rawTotal: u64(b, 48),
      cursor: json(b.subarray(60, 60 + cursorLength), 'cursor'),
      ...(digests ? { digest: b.subarray(60 + cursorLength).toString('hex') } : {}),
    };
    need(block.seq === blocks.length, 'block sequence');
    need(block.offset === at, 'block offset');
    need(block.prefixCrc === runningCrc, 'block running CRC');
    need(block.entriesTotal === entriesTotal + block.entries, 'block entry total');
    need(block.rawTotal === rawTotal + block.rawLength, 'block byte total');
    need(block.frameLength <= MAX_FRAME && block.rawLength <= MAX_RAW, 'block limits');
    need(block.frameOffset + block.frameLength <= file.length, 'data frame inside the file');
    const frame = file.subarray(block.frameOffset, block.frameOffset + block.frameLength);
    need(crc32(frame) === block.frameCrc, 'data frame CRC');
    if (block.digest !== undefined) {
      need(createHash('sha256').update(frame).digest().subarray(0, 16).toString('hex') === block.digest, 'data frame digest');
    }

    const walked = codec === 'lz4' ? walkLz4(frame) : walkZstd(frame);
    need(walked.length === frame.length, 'one frame exactly fills frameLength');
    need(walked.contentSize === block.rawLength, 'declared content size is rawLength');
    const raw = codec === 'lz4' ? (lz4.decompressFrameSync(frame) as Buffer) : (zstd.decompress(frame) as Buffer);
    need(raw.length === block.rawLength, 'decompressed length is rawLength');
    if (codec === 'none') need(storedFrame(raw).equals(frame), 'codec none frame is exactly the stored frame');
    const records = parseRecords(raw);
    need(records.length === block.entries, 'block entry count');
    need(records.length === 1 || raw.length <= header.blockSize, 'only a single-record block exceeds blockSize');

    entries.push(...records);
    raws.push(raw);
    blocks.push(block);
    entriesTotal = block.entriesTotal;
    rawTotal = block.rawTotal;
    runningCrc = crc32(file.subarray(at, block.frameOffset + block.frameLength), runningCrc);
    at = block.frameOffset + block.frameLength;
  }
}

// ---------------------------------------------------------------------------------------------
// The tests.

type BytesJson = string | { base64: string };
interface EntryJson {
  key: BytesJson;
  value: BytesJson;
  expiresAt?: number;
}

const asJson = (b: Buffer | string): BytesJson => (typeof b === 'string' ? b : { base64: b.toString('base64') });
const recJson = (r: Rec): EntryJson => ({
  key: asJson(r.key),
  value: asJson(r.value),
  ...(r.expiresAt !== undefined ? { expiresAt: r.expiresAt } : {}),
});
const load = (name: string): Buffer => fs.readFileSync(GOLDEN + name);
const loadJson = (name: string): any => JSON.parse(load(name).toString('utf8'));

const NAMES = ['snapshot-none', 'snapshot-zstd', 'snapshot-lz4', 'tiny-none', 'tiny-lz4', 'cdc-none', 'cdc-zstd', 'cdc-lz4', 'tiny-digest'];

for (const name of NAMES) {
  t.test(`${name}.snap read by the independent reader`, async (t) => {
    const d = loadJson(`${name}.json`);
    const file = load(`${name}.snap`);
    const got = readSnapshotFile(file);
    t.equal(file.length, d.fileLength, 'file length');
    t.equal(crc32(file), d.fileCrc32, 'file CRC32');
    t.strictSame(got.header, d.header, 'header');
    t.strictSame(got.blocks, d.blocks, 'blocks');
    t.strictSame(got.footer, d.footer, 'footer');
    const entries: EntryJson[] = typeof d.entries === 'string' ? loadJson(d.entries) : d.entries;
    t.strictSame(got.entries.map(recJson), entries, 'entries');
    const raw = typeof d.rawStream === 'string' ? load(d.rawStream) : Buffer.from(d.rawStream.base64, 'base64');
    t.ok(got.raw.equals(raw), 'concatenated blocks are the raw entry-record stream');
  });
}

t.test('entries.bin is a plain record stream', async (t) => {
  t.strictSame(parseRecords(load('entries.bin')).map(recJson), loadJson('entries.json'));
});

t.test('CRC trailer vectors', async (t) => {
  for (const name of ['crc-check', 'crc-empty', 'crc-entries-zstd']) {
    const d = loadJson(`${name}.json`);
    const file = load(`${name}.bin`);
    const body = file.subarray(0, file.length - 24);
    const tr = file.subarray(file.length - 24);
    t.equal(tr.readUInt32LE(0), SNAP_MAGIC, `${name}: magic`);
    t.equal(tr.readUInt32LE(4), 16, `${name}: payload length`);
    t.equal(tr.toString('latin1', 8, 12), 'SCRC', `${name}: tag`);
    t.equal(tr.readUInt32LE(12), crc32(body), `${name}: CRC32 of the bytes before`);
    t.equal(u64(tr, 16), body.length, `${name}: length of the bytes before`);
    t.equal(d.crc32, crc32(body), `${name}: described CRC`);
    if (d.compress) {
      // The body is a sequence of zstd frames (the Compressor's blocks) that decodes to the input
      // (FORMAT.md section 8): one frame per block, every block but the last exactly blockSize
      // bytes, nothing else (walkZstd refuses any other magic, skippable frames included).
      let at = 0;
      const out: Buffer[] = [];
      while (at < body.length) {
        const w = walkZstd(body.subarray(at));
        const frame = body.subarray(at, at + w.length);
        const raw = zstd.decompress(frame) as Buffer;
        t.equal(raw.length, w.contentSize);
        out.push(raw);
        at += w.length;
        if (at < body.length) t.equal(raw.length, d.compress.blockSize, `${name}: a whole block per frame`);
        else t.ok(raw.length > 0 && raw.length <= d.compress.blockSize, `${name}: the last block`);
      }
      t.ok(Buffer.concat(out).equals(load(d.input.file)), `${name}: frames decode to ${d.input.file}`);
    }
  }
  t.equal(crc32(Buffer.from('123456789')), 0xcbf43926, 'CRC-32/ISO-HDLC check value');
});

t.test('damage is caught', async (t) => {
  const file = load('snapshot-zstd.snap');
  const d = loadJson('snapshot-zstd.json');
  const flip = (at: number): Buffer => {
    const copy = Buffer.from(file);
    copy[at] = copy[at]! ^ 0x10;
    return copy;
  };
  const spots: [string, number][] = [
    ['header magic', 0],
    ['header JSON', 40],
    ['block 1 seq', d.blocks[1].offset + 12],
    ['block 2 cursor', d.blocks[2].frameOffset - 8],
    ['data frame 0', d.blocks[0].frameOffset + 100],
    ['last data frame end', d.footer.offset - 1],
    ['footer entry total', d.footer.offset + 16],
    ['footer CRC', file.length - 1],
  ];
  for (const [what, at] of spots) t.throws(() => readSnapshotFile(flip(at)), SpecViolation, `flipped ${what}`);
  for (const cut of [0, 7, 57, d.blocks[1].frameOffset + 3, file.length - 1]) {
    t.throws(() => readSnapshotFile(file.subarray(0, cut)), SpecViolation, `cut at ${cut}`);
  }
  t.throws(() => readSnapshotFile(Buffer.concat([file, Buffer.from([0])])), SpecViolation, 'byte after the footer');
  // A block header and data frame removed as a whole: sequence, offset and CRCs no longer fit.
  const b1 = d.blocks[1];
  const spliced = Buffer.concat([file.subarray(0, b1.offset), file.subarray(b1.frameOffset + b1.frameLength)]);
  t.throws(() => readSnapshotFile(spliced), SpecViolation, 'a block cut out');
});

// ---------------------------------------------------------------------------------------------
// Content-defined block boundaries (FORMAT.md 3.10), recomputed from the text alone.

/** keyHash of FORMAT.md 3.10, written from its pseudo-code. */
function keyHash(k: Buffer): number {
  const n = k.length;
  let h = (Math.imul(n, 0x9e3779b1) ^ 0x811c9dc5) >>> 0;
  if (n >= 4) {
    const s = n > 32 ? n - 32 : 0;
    for (let i = n - 4; i > s; i -= 4) h = (Math.imul(h ^ k.readUInt32LE(i), 0x01000193) ^ (h >>> 15)) >>> 0;
    h = Math.imul(h ^ k.readUInt32LE(s), 0x01000193) >>> 0;
  } else {
    for (let i = 0; i < n; i++) h = Math.imul(h ^ k[i]!, 0x01000193) >>> 0;
  }
  h = (h ^ (h >>> 16)) >>> 0;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h = (h ^ (h >>> 13)) >>> 0;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

for (const name of ['cdc-none', 'cdc-zstd', 'cdc-lz4']) {
  t.test(`${name}.snap: every block ends where FORMAT.md 3.10's rule says`, async (t) => {
    const d = loadJson(`${name}.json`);
    const got = readSnapshotFile(load(`${name}.snap`));
    const target = d.writeSnapshot.blockSize as number;
    const min = Math.floor(target / 2);
    const max = Math.min(2 * target, 67_108_864);
    t.equal(got.header.blockSize, max, 'header blockSize is the maximum');
    const cuts: number[] = [];
    let blockBytes = 0;
    let count = 0;
    for (let i = 0; i < got.entries.length; i++) {
      const r = got.entries[i]!;
      const key = typeof r.key === 'string' ? Buffer.from(r.key, 'utf8') : r.key;
      const value = typeof r.value === 'string' ? Buffer.from(r.value, 'utf8') : r.value;
      const length = 9 + (r.expiresAt !== undefined ? 8 : 0) + key.length + value.length;
      if (count > 0 && blockBytes + length > max) {
        cuts.push(count); // the hard maximum closes the block before this record
        blockBytes = 0;
        count = 0;
      }
      blockBytes += length;
      count++;
      if (blockBytes >= min && keyHash(key) < (length * 2 ** 32) / (target - min)) {
        cuts.push(count);
        blockBytes = 0;
        count = 0;
      }
    }
    if (count > 0) cuts.push(count);
    t.strictSame(got.blocks.map((b) => b.entries), cuts, `${cuts.length} blocks, cut where the rule says`);
  });
}
