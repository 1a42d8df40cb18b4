/**
 * The frame digest (docs/FORMAT.md 3.5, header flag bit 0): every block header of a file written
 * with digests (the default) carries the first 16 bytes of SHA-256 over its data frame as stored;
 * walkSnapshotFrames yields it; verifySnapshot checks it, and catches a frame changed with every
 * CRC recomputed; `digests: false` writes the layout earlier readers read.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { crc32, inspectSnapshot, isCorruptionError, readSnapshot, verifySnapshot, writeSnapshot, type Entry } from '../../lib/index.js';
import { walkSnapshotFrames } from '../../lib/snapshot/block-index.js';
import {
  decodeBlockHeader,
  decodeHeader,
  encodeBlockHeader,
  encodeFooter,
  type BlockHeader,
} from '../../lib/format/snapshot-frames.js';
import { partialPathFor } from '../../lib/sink/resumable-file-sink.js';

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'snapstream-frame-digest-'));
t.teardown(() => fs.rm(tmp, { recursive: true, force: true }));

const sha16 = (b: Buffer): Buffer => createHash('sha256').update(b).digest().subarray(0, 16);

function entries(n: number): Entry[] {
  return Array.from({ length: n }, (_, i) => ({ key: `key:${String(i).padStart(6, '0')}`, value: `value ${i} `.repeat(1 + (i % 7)) }));
}

/** Every block header of a file, with the bytes of its data frame. */
async function blocksOf(file: string): Promise<{ header: { digests?: boolean }; blocks: { block: BlockHeader; size: number; frame: Buffer }[] }> {
  const bytes = await fs.readFile(file);
  const fh = await fs.open(file, 'r');
  try {
    const out: { block: BlockHeader; size: number; frame: Buffer }[] = [];
    let header: { digests?: boolean } = {};
    for await (const f of walkSnapshotFrames(fh, bytes.length)) {
      if (f.kind === 'header') header = f.header;
      if (f.kind === 'block') {
        const at = f.offset + f.size;
        out.push({ block: f.block, size: f.size, frame: bytes.subarray(at, at + f.block.frameLength) });
      }
    }
    return { header, blocks: out };
  } finally {
    await fh.close();
  }
}

for (const codec of ['zstd', 'lz4', 'none'] as const) {
  t.test(`${codec}: every block header holds the SHA-256 (16 bytes) of its data frame as stored`, async (t) => {
    const file = path.join(tmp, `digests-${codec}.snap`);
    const summary = await writeSnapshot(entries(5000), file, { codec, blockSize: 16 * 1024 });
    const { header, blocks } = await blocksOf(file);
    t.equal(header.digests, true, 'header flag set');
    t.equal(blocks.length, summary.blocks);
    t.ok(blocks.length > 3, `${blocks.length} blocks`);
    for (const { block, frame } of blocks) {
      t.ok(block.digest && block.digest.length === 16, `block ${block.seq}: a 16-byte digest`);
      if (!block.digest?.equals(sha16(frame))) t.fail(`block ${block.seq}: digest is not the frame's SHA-256`);
    }
    const info = await inspectSnapshot(file);
    t.strictSame(info.blocks.map((b) => b.digest), blocks.map((b) => b.block.digest), 'inspectSnapshot lists them');
    await verifySnapshot(file);
  });
}

t.test('digests: false writes no flag and no digest', async (t) => {
  const file = path.join(tmp, 'plain.snap');
  await writeSnapshot(entries(2000), file, { blockSize: 16 * 1024, digests: false });
  const { header, blocks } = await blocksOf(file);
  t.equal(header.digests, undefined);
  t.equal((await fs.readFile(file))[15], 0, 'flags byte 0');
  t.ok(blocks.every((b) => b.block.digest === undefined));
  await verifySnapshot(file);
});

/**
 * A one-block file whose data frame is replaced by `frame`, with the block header's frameCrc,
 * its own CRC and the footer's running CRC recomputed, but the old digest kept: what a CRC alone
 * cannot tell from the original.
 */
async function forged(file: string, out: string, change: (frame: Buffer) => Buffer): Promise<void> {
  const bytes = await fs.readFile(file);
  const { blocks } = await blocksOf(file);
  t.equal(blocks.length, 1);
  const { block, size, frame } = blocks[0]!;
  const newFrame = change(Buffer.from(frame));
  const head = bytes.subarray(0, block.offset);
  const blockFrame = encodeBlockHeader({ ...block, frameLength: newFrame.length, frameCrc: crc32(newFrame) });
  t.equal(blockFrame.length, size);
  const body = Buffer.concat([head, blockFrame, newFrame]);
  const footer = encodeFooter({ blocks: 1, entriesTotal: block.entriesTotal, rawTotal: block.rawTotal, offset: body.length, prefixCrc: crc32(body) });
  await fs.writeFile(out, Buffer.concat([body, footer]));
}

t.test('a frame changed with every CRC recomputed fails verifySnapshot on its digest', async (t) => {
  const file = path.join(tmp, 'one-block.snap');
  await writeSnapshot([{ key: 'user:1', value: 'alice' }, { key: 'user:2', value: 'bob' }], file, { codec: 'none' });
  const bad = path.join(tmp, 'forged.snap');
  await forged(file, bad, (frame) => {
    const at = frame.indexOf('alice');
    frame[at] = 'A'.charCodeAt(0);
    return frame;
  });
  const err = await verifySnapshot(bad).then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(err, 'refused');
  t.equal((err as { code?: string }).code, 'SNAP_ERR_CHECKSUM');
  t.match((err as Error).message, /SHA-256 digest/);
  t.equal((err as { seq?: number }).seq, 0);
  t.ok(isCorruptionError(err), 'reported as corruption');
  // readSnapshot trusts the CRC32 (checked) and does not hash frames: documented in FORMAT.md 3.8.
  const read: unknown[] = [];
  for await (const e of readSnapshot(bad)) read.push(e);
  t.equal(read.length, 2);
  // The unchanged file verifies.
  await verifySnapshot(file);
});

t.test('a block header whose digest was changed (CRC resealed) fails verifySnapshot', async (t) => {
  const file = path.join(tmp, 'one-block-2.snap');
  await writeSnapshot([{ key: 'k', value: 'v' }], file, { codec: 'zstd' });
  const bytes = await fs.readFile(file);
  const { blocks } = await blocksOf(file);
  const { block, size } = blocks[0]!;
  const digest = Buffer.from(block.digest!);
  digest[0]! ^= 0xff;
  const blockFrame = encodeBlockHeader({ ...block, digest });
  // Same length: by the CRC residue property every later running CRC still matches.
  const bad = Buffer.concat([bytes.subarray(0, block.offset), blockFrame, bytes.subarray(block.offset + size)]);
  const out = path.join(tmp, 'forged-digest.snap');
  await fs.writeFile(out, bad);
  await t.rejects(verifySnapshot(out), { code: 'SNAP_ERR_CHECKSUM', message: /SHA-256 digest/ });
});

t.test('header flags and block header layout', async (t) => {
  const file = path.join(tmp, 'flags.snap');
  await writeSnapshot([{ key: 'k', value: 'v' }], file);
  const bytes = await fs.readFile(file);
  const headerLength = 8 + bytes.readUInt32LE(4);
  const header = Buffer.from(bytes.subarray(0, headerLength));
  t.equal(header[15], 1, 'flag bit 0');
  t.equal(decodeHeader(header, 0).digests, true);
  // A flag this build does not know: refused as unsupported, not as damage.
  header[15] = 0x03;
  header.writeUInt32LE(crc32(header.subarray(8, header.length - 4)), header.length - 4);
  t.throws(() => decodeHeader(header, 0), { code: 'SNAP_ERR_UNSUPPORTED' });
  // A block header without the digest in a file that has them (or with one in a file that has not).
  const plain = encodeBlockHeader({ seq: 0, frameLength: 9, rawLength: 0, frameCrc: 0, offset: 0, prefixCrc: 0, entries: 0, entriesTotal: 0, rawTotal: 0, cursor: 0 });
  const withDigest = encodeBlockHeader({ seq: 0, frameLength: 9, rawLength: 0, frameCrc: 0, offset: 0, prefixCrc: 0, entries: 0, entriesTotal: 0, rawTotal: 0, cursor: 0, digest: Buffer.alloc(16, 7) });
  t.equal(withDigest.length, plain.length + 16, 'the digest adds 16 bytes after the cursor');
  t.strictSame(withDigest.subarray(withDigest.length - 20, withDigest.length - 4), Buffer.alloc(16, 7));
  t.throws(() => decodeBlockHeader(plain, 0, true), { code: 'SNAP_ERR_FORMAT' });
  t.throws(() => decodeBlockHeader(withDigest, 0, false), { code: 'SNAP_ERR_FORMAT' });
  t.strictSame(decodeBlockHeader(withDigest, 0, true).digest, Buffer.alloc(16, 7));
  t.throws(() => encodeBlockHeader({ seq: 0, frameLength: 9, rawLength: 0, frameCrc: 0, offset: 0, prefixCrc: 0, entries: 0, entriesTotal: 0, rawTotal: 0, cursor: 0, digest: Buffer.alloc(15) }), {
    code: 'SNAP_ERR_INVALID_ARGUMENT',
  });
});

t.test('a partial written with digests is not continued without them', async (t) => {
  const file = path.join(tmp, 'resume.snap');
  const all = entries(3000);
  const ac = new AbortController();
  const partial = partialPathFor(file);
  let aborted = false;
  const source = async function* (cursor: unknown): AsyncGenerator<Entry> {
    for (let i = typeof cursor === 'number' ? cursor : 0; i < all.length; i++) {
      if (i === 2000 && !aborted) {
        // Aborted once the partial holds its header and a block: on a loaded machine the source
        // runs ahead of the writes, and an abort before the first write leaves an empty partial.
        while (((await fs.stat(partial).catch(() => null))?.size ?? 0) < 8192) await new Promise((r) => setImmediate(r));
        aborted = true;
        ac.abort();
      }
      yield all[i]!;
    }
  };
  await t.rejects(writeSnapshot(source, file, { blockSize: 4096, signal: ac.signal, syncEvery: 0 }));
  await fs.access(partialPathFor(file));
  const summary = await writeSnapshot(source, file, { blockSize: 4096, digests: false });
  t.match(summary.discarded, /written with frame digests/);
  t.notOk(summary.resumed);
  await verifySnapshot(file);
});
