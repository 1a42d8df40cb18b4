/**
 * Golden vectors (test/fixtures/golden/, described in docs/FORMAT.md): the current code must
 * write exactly these bytes, read them back to exactly the described entries and metadata, and
 * the stock `zstd -d` / `lz4 -d` tools must decode the snapshot files to the golden entry-record
 * stream.
 *
 * Regenerate (only after a deliberate format or codec-library change, and say so in the commit):
 *
 *   GOLDEN_UPDATE=1 npx tap test/format/golden-vectors.ts
 */
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough, Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import crc32Package from 'crc-32';
import type { CodecName } from '../../lib/codec/codec.js';
import { LimitError } from '../../lib/errors.js';
import type { DecodedEntry, Entry } from '../../lib/format/entry.js';
import { crc32 } from '../../lib/format/crc32.js';
import {
  decodeBlockHeader,
  decodeFooter,
  decodeHeader,
  frameTag,
  metaFrameLength,
  type SnapshotHeader,
  type SnapshotFooter,
} from '../../lib/format/snapshot-frames.js';
import { Compressor } from '../../lib/streams/compressor.js';
import { CrcFooter } from '../../lib/streams/crc-footer.js';
import { CrcVerifier } from '../../lib/streams/crc-verifier.js';
import { Decompressor } from '../../lib/streams/decompressor.js';
import { EntryDecoder } from '../../lib/streams/entry-decoder.js';
import { EntryEncoder } from '../../lib/streams/entry-encoder.js';
import { readSnapshot } from '../../lib/snapshot/read-snapshot.js';
import { SnapshotParser, type ParsedBlock } from '../../lib/snapshot/snapshot-parser.js';
import { writeSnapshot, type WriteSnapshotOptions } from '../../lib/snapshot/write-snapshot.js';

const GOLDEN = fileURLToPath(new URL('../fixtures/golden/', import.meta.url));
const FORMAT_MD = fileURLToPath(new URL('../../docs/FORMAT.md', import.meta.url));
const UPDATE = process.env.GOLDEN_UPDATE === '1';

const CREATED_AT = 1_700_000_000_000; // 2023-11-14T22:13:20.000Z
const META = { index: 42, term: 7 };
const BLOCK_SIZE = 4096;

// ---------------------------------------------------------------------------------------------
// The entries, and their JSON description (strings as JSON strings, Buffers as { base64 }).

type BytesJson = string | { base64: string };
interface EntryJson {
  key: BytesJson;
  value: BytesJson;
  expiresAt?: number;
}

/** A small deterministic PRNG (LCG), so the vectors never depend on Math.random. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24;
}

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliett'];

/**
 * 150 entries, about 17 KB of records: string and Buffer keys and values, UTF-8 beyond ASCII,
 * empty keys and values, absolute expiry in the past, the future and at 0, and one record larger
 * than the 4 KiB block (it gets a block of its own).
 */
function goldenEntries(): Entry[] {
  const rand = lcg(42);
  const out: Entry[] = [];
  for (let i = 0; i < 150; i++) {
    const n = String(i).padStart(4, '0');
    const key: Buffer | string = i % 4 < 2 ? `user:${n}` : Buffer.from([0x6b, i & 0xff, (i * 37) & 0xff, 0x00, 0xff]);
    let value: Buffer | string;
    switch (i % 5) {
      case 0:
        value = `{"name":"${WORDS[i % 10]}","seq":${i},"tags":["${WORDS[(i * 3) % 10]}","${WORDS[(i * 7) % 10]}"]}`;
        break;
      case 1:
        value = Buffer.from(Array.from({ length: 24 + (i % 23) }, () => rand()));
        break;
      case 2:
        value = `naïve café ${WORDS[i % 10]} — ${'€'.repeat(i % 4)} 🐘 #${i}`;
        break;
      case 3:
        value = Buffer.from(`${WORDS[i % 10]} `.repeat(6 + (i % 7)));
        break;
      default:
        value = i % 2 === 0 ? '' : `v${i}`;
    }
    const entry: Entry = { key, value };
    if (i % 3 === 0) entry.expiresAt = i % 9 === 0 ? 1_600_000_000_000 + i : CREATED_AT + 3_600_000 * i;
    out.push(entry);
    if (i === 70) out.push({ key: 'big', value: Buffer.from('0123456789abcdef'.repeat(320)) }); // 5120 B > block
  }
  out.splice(10, 0, { key: '', value: 'empty key' }, { key: Buffer.alloc(0), value: Buffer.alloc(0), expiresAt: 0 });
  return out;
}

/** The two entries of the worked example in docs/FORMAT.md. */
function tinyEntries(): Entry[] {
  return [
    { key: 'user:1', value: 'alice' },
    { key: Buffer.from([0xca, 0xfe]), value: Buffer.from('hi'), expiresAt: CREATED_AT + 60_000 },
  ];
}

function bytesJson(b: Buffer | Uint8Array | string): BytesJson {
  return typeof b === 'string' ? b : { base64: Buffer.from(b).toString('base64') };
}

function bytesFromJson(b: BytesJson): Buffer | string {
  return typeof b === 'string' ? b : Buffer.from(b.base64, 'base64');
}

function entryJson(e: Entry | DecodedEntry): EntryJson {
  const out: EntryJson = { key: bytesJson(e.key), value: bytesJson(e.value) };
  if (e.expiresAt !== undefined && e.expiresAt !== null) out.expiresAt = e.expiresAt;
  return out;
}

function entryFromJson(e: EntryJson): Entry {
  const out: Entry = { key: bytesFromJson(e.key), value: bytesFromJson(e.value) };
  if (e.expiresAt !== undefined) out.expiresAt = e.expiresAt;
  return out;
}

// ---------------------------------------------------------------------------------------------
// The snapshot vectors.

interface SnapshotSpec {
  name: string;
  description: string;
  codec: CodecName;
  entries: 'entries.json' | 'inline';
  /**
   * Written before the frame-digest revision (and with fixed blocks): writeSnapshot must still
   * write them byte for byte when asked for that layout, and every reader must still read them.
   */
  legacy?: boolean;
  cursorOf?: { text: string; fn: NonNullable<WriteSnapshotOptions['cursorOf']> };
}

const lastKeyCursor = {
  text: '{ entries: entries so far, lastKey: the last key of the block (a string, or base64 of a Buffer key) }',
  fn: (entry: Entry, count: number) => ({
    entries: count,
    lastKey: typeof entry.key === 'string' ? entry.key : Buffer.from(entry.key).toString('base64'),
  }),
};

const SNAPSHOTS: SnapshotSpec[] = [
  {
    name: 'snapshot-none',
    legacy: true,
    description: 'codec none: each block is a zstd frame of raw (stored) blocks; default cursor',
    codec: 'none',
    entries: 'entries.json',
  },
  {
    name: 'snapshot-zstd',
    legacy: true,
    description: 'codec zstd, level 1; a JSON object as the cursor',
    codec: 'zstd',
    entries: 'entries.json',
    cursorOf: lastKeyCursor,
  },
  {
    name: 'snapshot-lz4',
    legacy: true,
    description: 'codec lz4: LZ4 frames with the content size added; default cursor',
    codec: 'lz4',
    entries: 'entries.json',
  },
  {
    name: 'tiny-none',
    legacy: true,
    description: 'the worked example of docs/FORMAT.md: two entries, one block, codec none',
    codec: 'none',
    entries: 'inline',
  },
  {
    name: 'tiny-lz4',
    legacy: true,
    description: 'the LZ4 data-frame example of docs/FORMAT.md: the same two entries, codec lz4',
    codec: 'lz4',
    entries: 'inline',
  },
  {
    name: 'cdc-none',
    description: 'current defaults (content-defined blocks, frame digests), codec none; default cursor',
    codec: 'none',
    entries: 'entries.json',
  },
  {
    name: 'cdc-zstd',
    description: 'current defaults (content-defined blocks, frame digests), codec zstd level 1; a JSON object as the cursor',
    codec: 'zstd',
    entries: 'entries.json',
    cursorOf: lastKeyCursor,
  },
  {
    name: 'cdc-lz4',
    description: 'current defaults (content-defined blocks, frame digests), codec lz4; default cursor',
    codec: 'lz4',
    entries: 'entries.json',
  },
  {
    name: 'tiny-digest',
    description: 'the worked example of docs/FORMAT.md with the frame digest (header flag bit 0): codec none, current defaults',
    codec: 'none',
    entries: 'inline',
  },
];

/** The writeSnapshot options that reproduce the layout before the frame-digest revision. */
const LEGACY_OPTIONS: WriteSnapshotOptions = { digests: false, boundaries: 'fixed' };

interface BlockJson {
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
  /** The frame's digest, hex (files with `header.digests`). */
  digest?: string;
}

interface SnapshotJson {
  description: string;
  file: string;
  writeSnapshot: Record<string, unknown>;
  libraries: Record<string, string>;
  entries: string | EntryJson[];
  rawStream: string | { base64: string };
  fileLength: number;
  fileCrc32: number;
  header: SnapshotHeader;
  blocks: BlockJson[];
  footer: SnapshotFooter;
}

/** Versions whose compressed output the zstd and lz4 vectors pin. */
const LIBRARIES = {
  'zstd-napi': '0.0.13 (libzstd 1.5.7), level 1, one-shot ZSTD_compressCCtx per block',
  'lz4-napi': '2.10.0, compressFrame per block, content size added by lib/codec/lz4-frame.ts',
};

/** Walks a snapshot's metadata frames with lib/format (used to describe a fresh vector). */
function describeFrames(file: Buffer): Pick<SnapshotJson, 'header' | 'blocks' | 'footer'> {
  const frameAt = (at: number): Buffer => file.subarray(at, at + 8 + metaFrameLength(file.subarray(at, at + 8), at)!);
  const headerFrame = frameAt(0);
  const header = decodeHeader(headerFrame, 0);
  const blocks: BlockJson[] = [];
  let at = headerFrame.length;
  for (;;) {
    const f = frameAt(at);
    if (frameTag(f) === 'SEND') {
      const footer = decodeFooter(f, at);
      if (at + f.length !== file.length) throw new Error('bytes after the footer');
      return { header, blocks, footer };
    }
    const b = decodeBlockHeader(f, at, header.digests === true);
    blocks.push({
      seq: b.seq,
      offset: b.offset,
      frameOffset: at + f.length,
      frameLength: b.frameLength,
      rawLength: b.rawLength,
      frameCrc: b.frameCrc,
      prefixCrc: b.prefixCrc,
      entries: b.entries,
      entriesTotal: b.entriesTotal,
      rawTotal: b.rawTotal,
      cursor: b.cursor,
      ...(b.digest ? { digest: b.digest.toString('hex') } : {}),
    });
    at += f.length + b.frameLength;
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers.

function golden(name: string): string {
  return path.join(GOLDEN, name);
}

function readJson<T>(name: string): T {
  return JSON.parse(fs.readFileSync(golden(name), 'utf8')) as T;
}

function writeGolden(name: string, data: Buffer | string): void {
  fs.mkdirSync(GOLDEN, { recursive: true });
  fs.writeFileSync(golden(name), data);
}

function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Byte-for-byte comparison that reports the first differing offset instead of a huge diff. */
function sameBytes(t: Test, actual: Buffer, expected: Buffer, what: string): void {
  if (actual.equals(expected)) {
    t.pass(`${what}: ${expected.length} bytes identical`);
    return;
  }
  let i = 0;
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
  t.fail(`${what}: differs at byte ${i} (lengths ${actual.length} vs ${expected.length} expected)`);
}

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of stream) out.push(chunk as Buffer);
  return Buffer.concat(out);
}

async function encodeRecords(entries: Entry[]): Promise<Buffer> {
  return collect(Readable.from([entries], { objectMode: true }).pipe(new EntryEncoder({ blockSize: BLOCK_SIZE })));
}

async function decodeRecords(bytes: Buffer): Promise<DecodedEntry[]> {
  const out: DecodedEntry[] = [];
  // Feed in 7-byte pieces so records are cut everywhere.
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 7) pieces.push(bytes.subarray(i, i + 7));
  await pipeline(
    Readable.from(pieces),
    new EntryDecoder({ copy: true }),
    new Writable({
      objectMode: true,
      write(e: DecodedEntry, _enc, cb) {
        out.push(e);
        cb();
      },
    }),
  );
  return out;
}

async function readAll(file: string, options: Parameters<typeof readSnapshot>[1] = {}): Promise<{
  header: SnapshotHeader | null;
  entries: DecodedEntry[];
}> {
  const stream = readSnapshot(file, { ...options, copy: true });
  const entries: DecodedEntry[] = [];
  for await (const e of stream) entries.push(e as DecodedEntry);
  return { header: stream.header, entries };
}

async function parseWithParser(file: Buffer): Promise<{ parser: SnapshotParser; blocks: ParsedBlock[] }> {
  const parser = new SnapshotParser();
  const blocks: ParsedBlock[] = [];
  await pipeline(
    Readable.from([file.subarray(0, 100), file.subarray(100)]),
    parser,
    new Writable({
      objectMode: true,
      write(b: ParsedBlock, _enc, cb) {
        blocks.push(b);
        cb();
      },
    }),
  );
  return { parser, blocks };
}

function stockDecode(tool: 'zstd' | 'lz4', file: string): Buffer {
  return execFileSync(tool, ['-d', '-c', '-q', file], { maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Extracts the annotated hex listings of docs/FORMAT.md: ```hex <file>[@<offset>] blocks. */
function hexListings(markdown: string): { file: string; start: number; bytes: Buffer; offsets: string[] }[] {
  const out: { file: string; start: number; bytes: Buffer; offsets: string[] }[] = [];
  const re = /^```hex ([\w.-]+)(?:@(\d+))?\n([\s\S]*?)^```$/gm;
  for (const m of markdown.matchAll(re)) {
    const start = Number(m[2] ?? 0);
    const bytes: number[] = [];
    const offsets: string[] = [];
    for (const line of m[3]!.split('\n')) {
      const lm = /^([0-9a-f]{4,})  ((?:[0-9a-f]{2} ?)+?)\s*(?:\||$)/.exec(line);
      if (!lm) continue;
      if (Number.parseInt(lm[1]!, 16) !== start + bytes.length) offsets.push(`${lm[1]} (expected ${(start + bytes.length).toString(16)})`);
      for (const h of lm[2]!.trim().split(/\s+/)) bytes.push(Number.parseInt(h, 16));
    }
    out.push({ file: m[1]!, start, bytes: Buffer.from(bytes), offsets });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The tests.

const generated = goldenEntries();

t.test('entries.json describes the generator and entries.bin is their record stream', async (t) => {
  const described = generated.map(entryJson);
  if (UPDATE) writeGolden('entries.json', jsonText(described));
  const fixture = readJson<EntryJson[]>('entries.json');
  t.strictSame(fixture, described, 'entries.json matches the generator');
  const entries = fixture.map(entryFromJson);

  const records = await encodeRecords(entries);
  if (UPDATE) {
    writeGolden('entries.bin', records);
    writeGolden(
      'entries.bin.json',
      jsonText({
        description: 'The entry-record stream of entries.json: EntryEncoder output, no framing (docs/FORMAT.md, "Entry records").',
        file: 'entries.bin',
        entries: 'entries.json',
        length: records.length,
        crc32: crc32(records),
      }),
    );
  }
  const expected = fs.readFileSync(golden('entries.bin'));
  sameBytes(t, records, expected, 'EntryEncoder writes entries.bin');
  const info = readJson<{ length: number; crc32: number }>('entries.bin.json');
  t.equal(info.length, expected.length, 'described length');
  t.equal(info.crc32, crc32Package.buf(expected) >>> 0, 'described CRC32 (crc-32 package)');
  const decoded = await decodeRecords(expected);
  t.strictSame(decoded.map(entryJson), fixture, 'EntryDecoder reads entries.bin back to entries.json');
});

for (const spec of SNAPSHOTS) {
  t.test(`${spec.name}.snap`, async (t) => {
    const entries = spec.entries === 'inline' ? tinyEntries() : readJson<EntryJson[]>('entries.json').map(entryFromJson);
    const dir = t.testdir();
    const out = path.join(dir, `${spec.name}.snap`);
    const options: WriteSnapshotOptions = {
      ...(spec.legacy ? LEGACY_OPTIONS : {}),
      codec: spec.codec,
      createdAt: CREATED_AT,
      meta: { ...META },
      blockSize: BLOCK_SIZE,
    };
    if (spec.cursorOf) options.cursorOf = spec.cursorOf.fn;
    const summary = await writeSnapshot(entries, out, options);
    const written = fs.readFileSync(out);
    const goldenFile = golden(`${spec.name}.snap`);

    // Vectors of an earlier revision are never rewritten (docs/FORMAT.md section 4).
    if (UPDATE && !spec.legacy) {
      writeGolden(`${spec.name}.snap`, written);
      const description: SnapshotJson = {
        description: spec.description,
        file: `${spec.name}.snap`,
        writeSnapshot: {
          codec: spec.codec,
          ...(spec.codec === 'zstd' ? { level: 1 } : {}),
          blockSize: BLOCK_SIZE,
          createdAt: CREATED_AT,
          meta: META,
          cursorOf: spec.cursorOf ? spec.cursorOf.text : 'default: entries so far (a number)',
        },
        libraries: spec.codec === 'none' ? {} : { [spec.codec === 'zstd' ? 'zstd-napi' : 'lz4-napi']: LIBRARIES[spec.codec === 'zstd' ? 'zstd-napi' : 'lz4-napi'] },
        entries: spec.entries === 'inline' ? entries.map(entryJson) : 'entries.json',
        rawStream: spec.entries === 'inline' ? { base64: (await encodeRecords(entries)).toString('base64') } : 'entries.bin',
        fileLength: written.length,
        fileCrc32: crc32(written),
        ...describeFrames(written),
      };
      writeGolden(`${spec.name}.json`, jsonText(description));
    }

    const expected = fs.readFileSync(goldenFile);
    const d = readJson<SnapshotJson>(`${spec.name}.json`);
    sameBytes(t, written, expected, `writeSnapshot writes ${spec.name}.snap`);
    t.equal(summary.bytes, expected.length, 'summary size');

    // The description agrees with the file.
    t.equal(d.fileLength, expected.length, 'described length');
    t.equal(d.fileCrc32, crc32Package.buf(expected) >>> 0, 'described CRC32 (crc-32 package)');
    t.strictSame(d.entries, spec.entries === 'inline' ? entries.map(entryJson) : 'entries.json', 'described entries');
    t.strictSame(describeFrames(expected), { header: d.header, blocks: d.blocks, footer: d.footer }, 'described frames');
    t.strictSame(
      d.header,
      {
        version: 1,
        codec: spec.codec,
        // Content-defined blocks: the header records their hard maximum, twice the target.
        blockSize: spec.legacy ? BLOCK_SIZE : 2 * BLOCK_SIZE,
        createdAt: CREATED_AT,
        meta: META,
        ...(spec.legacy ? {} : { digests: true }),
      },
      'header',
    );
    if (spec.entries === 'entries.json') t.ok(d.blocks.length >= 3, `${d.blocks.length} blocks`);

    // Reading the golden file gives exactly the described entries and header.
    const want = entries.map(entryJson);
    const read = await readAll(goldenFile);
    t.strictSame(read.header, d.header, 'readSnapshot header');
    t.strictSame(read.entries.map(entryJson), want, 'readSnapshot entries');
    const live = await readAll(goldenFile, { skipExpired: true, now: CREATED_AT });
    t.strictSame(
      live.entries.map(entryJson),
      want.filter((e) => e.expiresAt === undefined || e.expiresAt > CREATED_AT),
      'skipExpired at createdAt drops exactly the entries expired by then',
    );

    // SnapshotParser accepts it and reports the described blocks.
    const { parser, blocks } = await parseWithParser(expected);
    t.strictSame(parser.header, d.header, 'parser header');
    t.strictSame(parser.footer, d.footer, 'parser footer');
    t.strictSame(
      blocks.map((b) => ({ seq: b.seq, offset: b.offset, frameLength: b.frame.length, rawLength: b.rawLength, crc: b.crc, entries: b.entries, entriesTotal: b.entriesTotal, cursor: b.cursor, digest: b.digest?.toString('hex') })),
      d.blocks.map((b) => ({ seq: b.seq, offset: b.frameOffset, frameLength: b.frameLength, rawLength: b.rawLength, crc: b.frameCrc, entries: b.entries, entriesTotal: b.entriesTotal, cursor: b.cursor, digest: b.digest })),
      'parser blocks',
    );

    // The stock tools decode it to the golden entry-record stream.
    const raw =
      typeof d.rawStream === 'string' ? fs.readFileSync(golden(d.rawStream)) : Buffer.from(d.rawStream.base64, 'base64');
    t.equal(raw.length, d.footer.rawTotal, 'raw stream length is the footer total');
    sameBytes(t, await encodeRecords(entries), raw, 'EntryEncoder writes the described raw stream');
    sameBytes(t, stockDecode(spec.codec === 'lz4' ? 'lz4' : 'zstd', goldenFile), raw, `${spec.codec === 'lz4' ? 'lz4' : 'zstd'} -d`);
  });
}

interface CrcSpec {
  name: string;
  description: string;
  input: { text: string } | { file: string } | { base64: string };
  compress?: { codec: CodecName; level: number; blockSize: number };
}

const CRC_VECTORS: CrcSpec[] = [
  {
    name: 'crc-check',
    description: 'CrcFooter over the CRC-32 check string "123456789": CRC32 0xcbf43926, length 9',
    input: { text: '123456789' },
  },
  { name: 'crc-empty', description: 'CrcFooter over empty input: CRC32 0, length 0', input: { base64: '' } },
  {
    name: 'crc-entries-zstd',
    description:
      'entries.bin → Compressor (zstd level 1, 4096-byte blocks, byte mode) → CrcFooter: a .zst stream with a CRC trailer that `zstd -d` decodes to entries.bin',
    input: { file: 'entries.bin' },
    compress: { codec: 'zstd', level: 1, blockSize: BLOCK_SIZE },
  },
];

interface CrcJson {
  description: string;
  file: string;
  input: CrcSpec['input'];
  compress?: CrcSpec['compress'];
  libraries?: Record<string, string>;
  /** Bytes before the trailer (the compressed stream when `compress` is set). */
  length: number;
  crc32: number;
  trailer: { hex: string };
}

for (const spec of CRC_VECTORS) {
  t.test(`${spec.name}.bin`, async (t) => {
    const input =
      'text' in spec.input
        ? Buffer.from(spec.input.text, 'latin1')
        : 'file' in spec.input
          ? fs.readFileSync(golden(spec.input.file))
          : Buffer.from(spec.input.base64, 'base64');
    const stage: Transform = spec.compress ? new Compressor(spec.compress) : new PassThrough();
    const outChunks: Buffer[] = [];
    await pipeline(
      Readable.from(input.length > 0 ? [input] : []),
      stage,
      new CrcFooter(),
      new Writable({
        write(c: Buffer, _e, cb) {
          outChunks.push(c);
          cb();
        },
      }),
    );
    const written = Buffer.concat(outChunks);
    const body = written.subarray(0, written.length - 24);
    if (UPDATE) {
      writeGolden(`${spec.name}.bin`, written);
      const description: CrcJson = {
        description: spec.description,
        file: `${spec.name}.bin`,
        input: spec.input,
        ...(spec.compress ? { compress: spec.compress, libraries: { 'zstd-napi': LIBRARIES['zstd-napi'] } } : {}),
        length: body.length,
        crc32: crc32(body),
        trailer: { hex: written.subarray(written.length - 24).toString('hex') },
      };
      writeGolden(`${spec.name}.json`, jsonText(description));
    }
    const expected = fs.readFileSync(golden(`${spec.name}.bin`));
    const d = readJson<CrcJson>(`${spec.name}.json`);
    sameBytes(t, written, expected, `CrcFooter writes ${spec.name}.bin`);
    t.equal(d.length, expected.length - 24, 'described length');
    t.equal(d.crc32, crc32Package.buf(expected.subarray(0, expected.length - 24)) >>> 0, 'described CRC32 (crc-32 package)');
    t.equal(d.trailer.hex, expected.subarray(expected.length - 24).toString('hex'), 'described trailer');
    if (spec.name === 'crc-check') t.equal(d.crc32, 0xcbf43926, 'the CRC-32/ISO-HDLC check value');

    // CrcVerifier strips the trailer and passes the body; Decompressor undoes the compression.
    const verified = await collect(
      Readable.from([expected]).pipe(new CrcVerifier()).pipe(spec.compress ? new Decompressor() : new PassThrough()),
    );
    sameBytes(t, verified, input, 'CrcVerifier (and Decompressor) give back the input');
    if (spec.compress) sameBytes(t, stockDecode('zstd', golden(`${spec.name}.bin`)), input, 'zstd -d skips the trailer');
  });
}

t.test('the worked hex listings in docs/FORMAT.md are the golden bytes', async (t) => {
  const listings = hexListings(fs.readFileSync(FORMAT_MD, 'utf8'));
  t.ok(listings.length >= 2, `${listings.length} listings`);
  for (const l of listings) {
    const file = fs.readFileSync(golden(l.file));
    t.strictSame(l.offsets, [], `${l.file}@${l.start}: offset column is right`);
    sameBytes(t, l.bytes, file.subarray(l.start, l.start + l.bytes.length), `${l.file}@${l.start}: ${l.bytes.length} bytes`);
    if (l.start === 0) t.equal(l.bytes.length, file.length, `${l.file}: listing covers the whole file`);
  }
});

t.test('header metadata longer than 1 MiB is refused by the reader', async (t) => {
  // Hand-made: a header frame with 1 MiB + 1 bytes of JSON (the writer refuses to make one).
  const json = Buffer.from(`{"x":"${'a'.repeat(1024 * 1024 + 1 - 8)}"}`);
  const payload = Buffer.alloc(24 + json.length + 4);
  payload.write('SNAP', 0, 'latin1');
  payload.writeUInt16LE(1, 4);
  payload[6] = 1;
  payload.writeUInt32LE(BLOCK_SIZE, 8);
  payload.writeUInt32LE(json.length, 20);
  json.copy(payload, 24);
  payload.writeUInt32LE(crc32(payload.subarray(0, payload.length - 4)), payload.length - 4);
  const frame = Buffer.concat([Buffer.from([0x5a, 0x2a, 0x4d, 0x18, 0, 0, 0, 0]), payload]);
  frame.writeUInt32LE(payload.length, 4);
  t.throws(() => decodeHeader(frame, 0), LimitError);
});
