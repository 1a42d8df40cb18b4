/**
 * What docs/FORMAT.md says of header fields and of what the CRCs prove, checked on files whose
 * CRCs are all right (each made from a golden vector by changing fields and recomputing the
 * changed frame's own CRC, as a writer would):
 *  - a nonzero reserved header byte is refused with SNAP_ERR_UNSUPPORTED (3.4, 4: must-understand
 *    feature flags, never ignored);
 *  - a block size outside 4 KiB … 64 MiB is refused on read with SNAP_ERR_FORMAT (3.4, 3.9);
 *  - a data frame of another kind than the header's codec is SNAP_ERR_FORMAT (3.8 step 4), and
 *    damage to such a frame is still SNAP_ERR_CHECKSUM;
 *  - the CRCs are not authentication (3.8): a same-length rewrite of the header's metadata or a
 *    block's cursor, with only that frame's own CRC recomputed, reads and verifies as good.
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, inspectSnapshot, readSnapshot, verifySnapshot } from '../../lib/index.js';

const golden = fileURLToPath(new URL('../fixtures/golden/', import.meta.url));
const tinyNone = fs.readFileSync(path.join(golden, 'tiny-none.snap'));
const tinyLz4 = fs.readFileSync(path.join(golden, 'tiny-lz4.snap'));
/** The block header of the tiny vectors: right after the 57-byte header frame. */
const BLOCK_AT = 57;

/**
 * A copy of `file` whose metadata frame at `at` has its body (tag and fields) changed by `edit`
 * and its own CRC recomputed; nothing else in the file changes.
 */
function rewriteFrame(file: Buffer, at: number, edit: (body: Buffer) => void): Buffer {
  const out = Buffer.from(file);
  const length = out.readUInt32LE(at + 4);
  const body = out.subarray(at + 8, at + 4 + length);
  edit(body);
  out.writeUInt32LE(crc32(body), at + 4 + length);
  return out;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'snapstream-header-fields-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
let files = 0;

/** Writes `bytes` to a file of its own and reads every entry from it with readSnapshot. */
async function readAll(bytes: Buffer): Promise<{ file: string; entries: unknown[]; error: unknown }> {
  const file = path.join(tmp, `${files++}.snap`);
  fs.writeFileSync(file, bytes);
  const entries: unknown[] = [];
  try {
    for await (const e of readSnapshot(file)) entries.push(e);
    return { file, entries, error: null };
  } catch (error) {
    return { file, entries, error };
  }
}

t.test('the golden vectors read as they are', async (t) => {
  for (const [name, bytes] of [['none', tinyNone], ['lz4', tinyLz4]] as const) {
    const r = await readAll(bytes);
    t.equal(r.error, null, `${name}: no error`);
    t.equal(r.entries.length, 2, `${name}: both entries`);
  }
});

t.test('a header flag this build does not know is refused as unsupported', async (t) => {
  for (const value of [2, 3, 0x80, 0xff]) {
    const r = await readAll(rewriteFrame(tinyNone, 0, (body) => (body[7] = value)));
    t.match(r.error, { code: 'SNAP_ERR_UNSUPPORTED', actual: value }, `flags byte ${value}`);
    t.equal(r.entries.length, 0, 'no entry handed out');
  }
  // Flag bit 0 (frame digests) is known: set on a file whose block headers have none, the block
  // header does not fit the layout the flag announces.
  const r = await readAll(rewriteFrame(tinyNone, 0, (body) => (body[7] = 1)));
  t.match(r.error, { code: 'SNAP_ERR_FORMAT', message: /frame digest/ }, 'flag 1 without digests');
  t.equal(r.entries.length, 0, 'no entry handed out');
});

t.test('a block size out of 4 KiB … 64 MiB is refused on read', async (t) => {
  for (const size of [0, 4095, 64 * 1024 * 1024 + 1, 0xffffffff]) {
    const r = await readAll(rewriteFrame(tinyNone, 0, (body) => body.writeUInt32LE(size, 8)));
    t.match(r.error, { code: 'SNAP_ERR_FORMAT', actual: size }, `blockSize ${size}`);
  }
  for (const size of [4096, 64 * 1024 * 1024]) {
    const r = await readAll(rewriteFrame(tinyNone, 0, (body) => body.writeUInt32LE(size, 8)));
    t.equal(r.error, null, `blockSize ${size} is accepted`);
    t.equal(r.entries.length, 2);
  }
});

t.test("a data frame of another kind than the header's codec is a format error", async (t) => {
  // LZ4 data under a header that says zstd, and a zstd (stored) frame under one that says lz4.
  const lz4AsZstd = rewriteFrame(tinyLz4, 0, (body) => (body[6] = 1));
  const zstdAsLz4 = rewriteFrame(tinyNone, 0, (body) => (body[6] = 2));
  for (const [name, bytes, expected] of [
    ['lz4 data, codec zstd', lz4AsZstd, 0xfd2fb528],
    ['zstd data, codec lz4', zstdAsLz4, 0x184d2204],
  ] as const) {
    const r = await readAll(bytes);
    t.match(r.error, { code: 'SNAP_ERR_FORMAT', seq: 0, offset: 130, expected }, name);
    t.equal(r.entries.length, 0, `${name}: no entry handed out`);
    // The same file with the data frame's first byte damaged: damage, not a format question.
    const damaged = Buffer.from(bytes);
    damaged[130]! ^= 0x01;
    t.match((await readAll(damaged)).error, { code: 'SNAP_ERR_CHECKSUM' }, `${name}, frame damaged`);
  }
  // The header's codec `none` and `zstd` both mean zstd frames.
  const noneAsZstd = rewriteFrame(tinyNone, 0, (body) => (body[6] = 1));
  t.equal((await readAll(noneAsZstd)).error, null, 'a stored zstd frame under codec zstd is fine');
});

t.test('the CRCs are not authentication: a same-length metadata rewrite passes', async (t) => {
  // The header's meta {"index":42,"term":7} → {"index":43,"term":9}; block 0's cursor 2 → 7.
  const forged = rewriteFrame(
    rewriteFrame(tinyNone, 0, (body) => body.write('{"index":43,"term":9}', 24, 'latin1')),
    BLOCK_AT,
    (body) => body.write('7', 60, 'latin1'),
  );
  t.equal(forged.length, tinyNone.length, 'same length');
  t.notOk(forged.equals(tinyNone), 'other bytes');
  t.equal(crc32(forged), crc32(tinyNone), 'yet even the CRC32 of the whole file is the same');
  const r = await readAll(forged);
  const file = r.file;
  t.equal(r.error, null, 'readSnapshot reads it without error');
  t.equal(r.entries.length, 2, 'and every entry');
  await t.resolves(verifySnapshot(file), 'verifySnapshot passes it');
  const info = await inspectSnapshot(file);
  t.same(info.header.meta, { index: 43, term: 9 }, 'with the rewritten metadata');
  t.equal(info.blocks[0]!.cursor, 7, 'and the rewritten cursor');
  // Every later prefixCrc still matches: the frame's contribution to the running CRC depends
  // only on its length (FORMAT.md 3.8).
  t.equal(crc32(forged.subarray(0, BLOCK_AT)), crc32(tinyNone.subarray(0, BLOCK_AT)), 'the running CRC after the header is unchanged');
});
