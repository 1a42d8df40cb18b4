/**
 * A length field claiming 4 GiB is refused, not allocated: an entry record's key length, a
 * snapshot metadata frame's size, a block header's raw or frame length, a block handed to the
 * block-mode Decompressor, a zstd frame's content size. Each is refused with a typed error
 * (SNAP_ERR_LIMIT where the limit is what catches it) while the process's memory stays flat.
 */
import t, { type Test } from 'tap';
import { createWriteStream, rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable, type Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  Compressor,
  crc32,
  CrcVerifier,
  Decompressor,
  EntryDecoder,
  readSnapshot,
  SnapshotFramer,
  SnapstreamError,
  writeSnapshot,
} from '../../lib/index.js';

const MiB = 1024 * 1024;
const FOUR_GIB = 0xffffffff;

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'snapstream-limits-'));
// On every exit, also one cut short by a failure.
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** rss and arrayBuffers, after a collection if one is available. */
function memory(): { rss: number; arrayBuffers: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, arrayBuffers: m.arrayBuffers };
}

/**
 * Runs `work`, which must fail with one of `codes`, and checks that memory did not jump: sampled
 * when the error arrives (whatever was allocated for the claim is still referenced then) and
 * every few milliseconds while it runs.
 */
async function refused(t: Test, what: string, codes: string[], work: () => Promise<unknown>): Promise<void> {
  const before = memory();
  let peak = { ...before };
  const sample = (): void => {
    const m = process.memoryUsage();
    peak = { rss: Math.max(peak.rss, m.rss), arrayBuffers: Math.max(peak.arrayBuffers, m.arrayBuffers) };
  };
  const timer = setInterval(sample, 2);
  let error: unknown = null;
  try {
    await work();
  } catch (err) {
    error = err;
  }
  sample();
  clearInterval(timer);
  t.type(error, SnapstreamError, `${what}: a SnapstreamError`);
  t.ok(codes.includes((error as SnapstreamError | null)?.code ?? ''), `${what}: ${(error as SnapstreamError | null)?.code} is one of ${codes.join(', ')}`);
  t.ok(peak.arrayBuffers - before.arrayBuffers < 64 * MiB, `${what}: arrayBuffers grew by ${((peak.arrayBuffers - before.arrayBuffers) / MiB).toFixed(1)} MiB`);
  t.ok(peak.rss - before.rss < 100 * MiB, `${what}: rss grew by ${((peak.rss - before.rss) / MiB).toFixed(1)} MiB`);
}

function through(stage: Duplex, chunks: unknown[]): Promise<void> {
  return pipeline(Readable.from(chunks), stage, async function* (source) {
    for await (const _ of source) yield* [];
  });
}

async function readAll(file: string): Promise<number> {
  let n = 0;
  for await (const _ of readSnapshot(file)) n++;
  return n;
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

/** An entry record header: flags, key length, value length. */
function recordHeader(flags: number, keyLength: number, valueLength: number): Buffer {
  return Buffer.concat([Buffer.from([flags]), u32(keyLength), u32(valueLength)]);
}

t.test('an entry record claiming a 4 GiB key', async (t) => {
  for (const [name, header] of [
    ['key length 0xFFFFFFFF', recordHeader(0, FOUR_GIB, 0)],
    ['value length 0xFFFFFFFF', recordHeader(2, 3, FOUR_GIB)],
    ['key and value 0xFFFFFFFF each', recordHeader(7, FOUR_GIB, FOUR_GIB)],
    ['key + value one byte over 256 MiB', recordHeader(0, 128 * MiB, 128 * MiB + 1)],
  ] as const) {
    const tail = Buffer.alloc(100, 0x41);
    await refused(t, `${name}, whole`, ['SNAP_ERR_LIMIT'], () => through(new EntryDecoder(), [Buffer.concat([header, tail])]));
    // The header cut across chunks: the split-record path must check before it allocates too.
    const pieces = [...header].map((b) => Buffer.from([b]));
    await refused(t, `${name}, a byte at a time`, ['SNAP_ERR_LIMIT'], () => through(new EntryDecoder(), [...pieces, tail]));
  }
});

t.test('a valid snapshot whose block holds a record claiming 4 GiB', async (t) => {
  // Every CRC is right: only the record's own length check stands between it and the allocation.
  const file = path.join(tmp, 'record-4gib.snap');
  const block = Buffer.concat([recordHeader(6, 1, 1), Buffer.from('kv'), recordHeader(0, FOUR_GIB, 16), Buffer.alloc(64)]);
  await pipeline(
    Readable.from([{ data: block, entries: 2, cursor: 2 }]),
    new Compressor({ blocks: true, codec: 'zstd' }),
    new SnapshotFramer({ codec: 'zstd', blockSize: 64 * 1024 }),
    createWriteStream(file),
  );
  await refused(t, 'readSnapshot', ['SNAP_ERR_LIMIT'], () => readAll(file));
});

/** A small valid snapshot and where its frames are. */
async function snapshot(name: string): Promise<{ bytes: Buffer; headerEnd: number; block: number }> {
  const file = path.join(tmp, name);
  await writeSnapshot(
    Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: 'v'.repeat(100) })),
    file,
    { codec: 'zstd', blockSize: 4096 },
  );
  const bytes = await fs.readFile(file);
  const headerEnd = 8 + bytes.readUInt32LE(4);
  return { bytes, headerEnd, block: headerEnd };
}

/** Re-seals a metadata frame's own CRC (its last 4 bytes) after a change. */
function reseal(bytes: Buffer, at: number): void {
  const end = at + 8 + bytes.readUInt32LE(at + 4) - 4;
  bytes.writeUInt32LE(crc32(bytes.subarray(at + 8, end)), end);
}

t.test('a snapshot metadata frame claiming 0xFFFFFFF0 bytes', async (t) => {
  const { bytes, headerEnd } = await snapshot('meta.snap');
  for (const [name, at] of [
    ['the header', 0],
    ['the first block header', headerEnd],
  ] as const) {
    const b = Buffer.from(bytes);
    b.writeUInt32LE(0xfffffff0, at + 4);
    const file = path.join(tmp, `meta-${at}.snap`);
    await fs.writeFile(file, b);
    await refused(t, name, ['SNAP_ERR_LIMIT'], () => readAll(file));
  }
});

t.test('a block header claiming a 4 GiB block', async (t) => {
  const { bytes, block } = await snapshot('block.snap');
  const p = block + 8; // payload
  const rawLength = bytes.readUInt32LE(p + 12);
  const cases: Array<[string, (b: Buffer) => void, string[]]> = [
    ['rawLength 0xFFFFFFFF, CRC not re-sealed', (b) => b.writeUInt32LE(FOUR_GIB, p + 12), ['SNAP_ERR_CHECKSUM']],
    [
      'rawLength 0xFFFFFFFF with consistent totals and a valid frame CRC',
      (b) => {
        b.writeUInt32LE(FOUR_GIB, p + 12);
        b.writeBigUInt64LE(b.readBigUInt64LE(p + 48) - BigInt(rawLength) + BigInt(FOUR_GIB), p + 48);
        reseal(b, block);
      },
      ['SNAP_ERR_LIMIT'],
    ],
    [
      'frameLength 0xFFFFFFFF with a valid frame CRC',
      (b) => {
        b.writeUInt32LE(FOUR_GIB, p + 8);
        reseal(b, block);
      },
      ['SNAP_ERR_LIMIT'],
    ],
    [
      'rawLength 0xFFFFFFFF, totals not adjusted, valid frame CRC',
      (b) => {
        b.writeUInt32LE(FOUR_GIB, p + 12);
        reseal(b, block);
      },
      ['SNAP_ERR_LIMIT', 'SNAP_ERR_FORMAT'],
    ],
  ];
  for (const [name, change, codes] of cases) {
    const b = Buffer.from(bytes);
    change(b);
    const file = path.join(tmp, 'block-4gib.snap');
    await fs.writeFile(file, b);
    await refused(t, name, codes, () => readAll(file));
  }
});

t.test('a block-mode Decompressor input claiming a 4 GiB block', async (t) => {
  const frames: Buffer[] = [];
  for await (const b of Readable.from([{ data: Buffer.alloc(1000, 1), entries: 0 }]).pipe(new Compressor({ blocks: true }))) {
    frames.push((b as { frame: Buffer }).frame);
  }
  for (const rawLength of [FOUR_GIB, 2 ** 32, 2 ** 40]) {
    await refused(t, `rawLength ${rawLength}`, ['SNAP_ERR_LIMIT'], () =>
      through(new Decompressor({ blocks: true }), [{ frame: frames[0]!, rawLength }]),
    );
  }
});

t.test('byte streams claiming 4 GiB', async (t) => {
  // A skippable frame of 0xFFFFFFF0 bytes is passed over, as the stock tools do, without
  // holding it: the input ends long before, which is a truncation.
  const skippable = Buffer.concat([u32(0x184d2a50), u32(0xfffffff0), Buffer.alloc(5000)]);
  await refused(t, 'a skippable frame of 0xFFFFFFF0 bytes', ['SNAP_ERR_TRUNCATED'], () =>
    through(new Decompressor(), [skippable]),
  );
  // A zstd frame declaring 4 GiB of content (8-byte Frame_Content_Size): decoded as a stream.
  const zstdHeader = Buffer.concat([u32(0xfd2fb528), Buffer.from([0xc0, 0x58]), u32(FOUR_GIB), u32(0)]);
  const rle = Buffer.from([0x03 | (2 << 0), 0x00, 0x10, 0x00]); // an RLE block, not last
  await refused(t, 'a zstd frame declaring 4 GiB', ['SNAP_ERR_TRUNCATED', 'SNAP_ERR_CODEC', 'SNAP_ERR_FORMAT'], () =>
    through(new Decompressor(), [zstdHeader, rle]),
  );
  // A CRC trailer claiming a length of 2^64 - 1.
  const trailer = Buffer.concat([u32(0x184d2a5a), u32(16), Buffer.from('SCRC'), u32(0), u32(FOUR_GIB), u32(FOUR_GIB)]);
  await refused(t, 'a CRC trailer claiming 2^64 - 1 bytes', ['SNAP_ERR_FORMAT', 'SNAP_ERR_TRUNCATED', 'SNAP_ERR_CHECKSUM'], () =>
    through(new CrcVerifier(), [Buffer.from('data'), trailer]),
  );
});
