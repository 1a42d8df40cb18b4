/**
 * A block header may claim no more than a writer makes (docs/FORMAT.md 3.9): a block over the
 * block size holds one record, a block at most blockSize / 9 records, a frame no more than its
 * block. Such claims are refused with SNAP_ERR_LIMIT before anything is decompressed or decoded,
 * by readSnapshot, verifySnapshot and inspectSnapshot alike; and inspect refuses bytes after the
 * footer as the others do.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import {
  Compressor,
  crc32,
  Decompressor,
  inspectSnapshot,
  readSnapshot,
  SnapshotFramer,
  verifySnapshot,
  writeSnapshot,
} from '../../lib/index.js';
import { compressLz4Frame } from '../../lib/codec/lz4-frame.js';
import { xxhash32 } from '../../lib/codec/xxhash32.js';
import { encodeBlockHeader, encodeFooter, encodeHeader } from '../../lib/format/snapshot-frames.js';

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'snapstream-block-limits-'));
t.teardown(() => fs.rm(tmp, { recursive: true, force: true }));
const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/cli/main.js');

/** A snapshot file with one block, whatever its block header claims; every CRC is right. */
async function handMade(name: string, o: { blockSize: number; frame: Buffer; rawLength: number; entries: number }): Promise<string> {
  const header = encodeHeader({ codec: 'zstd', blockSize: o.blockSize, createdAt: 1, meta: {} });
  const block = encodeBlockHeader({
    seq: 0,
    frameLength: o.frame.length,
    rawLength: o.rawLength,
    frameCrc: crc32(o.frame),
    offset: header.length,
    prefixCrc: crc32(header),
    entries: o.entries,
    entriesTotal: o.entries,
    rawTotal: o.rawLength,
    cursor: o.entries,
  });
  const body = Buffer.concat([header, block, o.frame]);
  const footer = encodeFooter({ blocks: 1, entriesTotal: o.entries, rawTotal: o.rawLength, offset: body.length, prefixCrc: crc32(body) });
  const file = path.join(tmp, name);
  await fs.writeFile(file, Buffer.concat([body, footer]));
  return file;
}

async function zstdFrame(data: Buffer): Promise<Buffer> {
  let frame: Buffer | null = null;
  await pipeline(
    Readable.from([{ data, entries: 1, cursor: 1 }]),
    new Compressor({ blocks: true, codec: 'zstd' }),
    new Writable({ objectMode: true, write: (b: { frame: Buffer }, _e, cb) => ((frame = Buffer.from(b.frame)), cb()) }),
  );
  return frame!;
}

async function readAll(file: string): Promise<number> {
  let n = 0;
  for await (const batch of readSnapshot(file, { batch: true })) n += (batch as unknown[]).length;
  return n;
}

t.test('a decompression bomb: one block of empty records over the block size', async (t) => {
  // The 8 KB bomb in small: 1 MiB of zeros is 116,508 empty records; the file's blocks are 4 KiB.
  const entries = Math.floor((1024 * 1024) / 9);
  const zeros = Buffer.alloc(entries * 9);
  const file = await handMade('bomb.snap', { blockSize: 4096, frame: await zstdFrame(zeros), rawLength: zeros.length, entries });
  t.ok((await fs.stat(file)).size < 1024, 'the file is small');
  await t.rejects(readAll(file), { code: 'SNAP_ERR_LIMIT', seq: 0 }, 'readSnapshot');
  await t.rejects(verifySnapshot(file), { code: 'SNAP_ERR_LIMIT', seq: 0 }, 'verifySnapshot');
  await t.rejects(inspectSnapshot(file), { code: 'SNAP_ERR_LIMIT', seq: 0 }, 'inspectSnapshot');
});

t.test('a header claiming more than a writer makes is refused before the frame is decoded', async (t) => {
  // The frame is not a frame at all: decoding it would fail otherwise (SNAP_ERR_FORMAT or _CODEC).
  const junk = Buffer.alloc(64, 0x5a);
  const cases = [
    ['two records in a block over the block size', { blockSize: 4096, frame: junk, rawLength: 8192, entries: 2 }],
    ['more raw bytes than 256 MiB', { blockSize: 4096, frame: junk, rawLength: 256 * 1024 * 1024 + 1, entries: 1 }],
    ['a frame far longer than its block', { blockSize: 4096, frame: Buffer.alloc(200 * 1024, 1), rawLength: 100, entries: 1 }],
  ] as const;
  for (const [name, o] of cases) {
    const file = await handMade(`${name.replaceAll(' ', '-')}.snap`, o);
    await t.rejects(readAll(file), { code: 'SNAP_ERR_LIMIT' }, `readSnapshot: ${name}`);
    await t.rejects(verifySnapshot(file), { code: 'SNAP_ERR_LIMIT' }, `verifySnapshot: ${name}`);
    await t.rejects(inspectSnapshot(file), { code: 'SNAP_ERR_LIMIT' }, `inspectSnapshot: ${name}`);
  }
  const file = await handMade('more-records-than-bytes.snap', { blockSize: 4096, frame: junk, rawLength: 90, entries: 11 });
  await t.rejects(readAll(file), { code: 'SNAP_ERR_FORMAT' }, 'more records than the raw bytes hold');
});

t.test('the framer never writes a block a reader refuses', async (t) => {
  const block = { data: Buffer.alloc(8192), entries: 2, cursor: 2 }; // 8 KiB claimed as two records
  await t.rejects(
    pipeline(
      Readable.from([block]),
      new Compressor({ blocks: true, codec: 'zstd' }),
      new SnapshotFramer({ codec: 'zstd', blockSize: 4096 }),
      new Writable({ write: (_c, _e, cb) => cb() }),
    ),
    { code: 'SNAP_ERR_LIMIT' },
  );
});

/** Decodes one FrameInput with a block-mode Decompressor. */
function decodeOne(input: { frame: Buffer; rawLength: number }): Promise<void> {
  return pipeline(Readable.from([input]), new Decompressor({ blocks: true }), new Writable({ objectMode: true, write: (_c, _e, cb) => cb() }));
}

t.test('a frame whose declared size disagrees with its block is a format error', async (t) => {
  const frame = await zstdFrame(Buffer.alloc(100, 7));
  await t.rejects(decodeOne({ frame, rawLength: 200 }), { code: 'SNAP_ERR_FORMAT' }, 'zstd: declares less');
  await t.rejects(decodeOne({ frame, rawLength: 50 }), { code: 'SNAP_ERR_FORMAT' }, 'zstd: declares more');
  const lz4 = await compressLz4Frame(Buffer.alloc(100, 7));
  await t.rejects(decodeOne({ frame: lz4, rawLength: 50 }), { code: 'SNAP_ERR_FORMAT' }, 'lz4: declares more');
});

t.test('an LZ4 frame that declares no size may not expand past its block', async (t) => {
  // 2 MiB of zeros in eight 256 KiB blocks, its content size taken out of the frame header.
  const withSize = await compressLz4Frame(Buffer.alloc(2 * 1024 * 1024));
  t.equal(withSize[4]! & 0x08, 0x08, 'the frame declares its size');
  const frame = Buffer.concat([withSize.subarray(0, 6), withSize.subarray(14)]);
  frame[4] = withSize[4]! & ~0x08;
  frame[6] = (xxhash32(frame.subarray(4, 6)) >>> 8) & 0xff;
  await t.resolves(decodeOne({ frame, rawLength: 2 * 1024 * 1024 }), 'the stripped frame is valid');
  await t.rejects(decodeOne({ frame, rawLength: 256 * 1024 }), { code: 'SNAP_ERR_LIMIT' }, 'refused before decoding 2 MiB into a 256 KiB block');
});

t.test('inspect refuses bytes after the footer, as verify and readSnapshot do', async (t) => {
  const file = path.join(tmp, 'trailing.snap');
  await writeSnapshot([{ key: 'a', value: 'b' }], file);
  await t.resolves(inspectSnapshot(file), 'the file as written inspects');
  await fs.appendFile(file, Buffer.from('garbage'));
  await t.rejects(inspectSnapshot(file), { code: 'SNAP_ERR_FORMAT' }, 'inspectSnapshot');
  await t.rejects(verifySnapshot(file), { code: 'SNAP_ERR_FORMAT' }, 'verifySnapshot');
  const run = promisify(execFile);
  const err = (await run(process.execPath, [cli, 'inspect', file]).then(
    () => null,
    (e: unknown) => e,
  )) as { code?: number; stderr?: string } | null;
  t.ok(err && err.code !== 0, 'snapstream inspect exits non-zero');
  t.match(err?.stderr ?? '', /after the footer/, 'and says why');
});
