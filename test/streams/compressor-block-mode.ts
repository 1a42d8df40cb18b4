/**
 * Block mode (`blocks: true`): the Compressor takes RawBlocks and emits one CompressedBlock per
 * block, as given (never re-cut), carrying its CRC32, raw length, entry count and cursor; the
 * Decompressor takes those back, checks the CRC and passes every other field on.
 */
import t from 'tap';
import {
  Compressor,
  Decompressor,
  EntryDecoder,
  EntryEncoder,
  crc32,
  type CodecName,
  type CompressedBlock,
  type DecodedEntry,
  type Entry,
  type RawBlock,
} from '../../lib/index.js';
import { Leases, withLeases } from '../../lib/format/leases.js';
import { pipeThrough as collect } from '../fixtures/pipe-through.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x0987552c);

function rawBlocks(): RawBlock[] {
  // Uneven sizes, including empty, tiny, and larger than the nominal blockSize.
  const sizes = [5000, 0, 1, 70_000, 4096, 123_457, 10];
  return sizes.map((n, i) => ({
    data: Buffer.concat([Buffer.from(`block ${i} `.repeat(Math.ceil(n / 20))), randomBytes(Math.floor(n / 10))]).subarray(0, n),
    entries: i * 10,
    cursor: { after: `key-${i}`, i },
  }));
}

for (const codec of ['zstd', 'lz4', 'none'] as CodecName[]) {
  t.test(`codec ${codec}: RawBlock → CompressedBlock → data, one frame per block`, async (t) => {
    const blocks = rawBlocks();
    const originals = blocks.map((b) => Buffer.from(b.data));
    const compressed = await collect<CompressedBlock>(blocks, new Compressor({ codec, blocks: true, blockSize: 4096 }));
    t.equal(compressed.length, blocks.length, 'one CompressedBlock per RawBlock');
    compressed.forEach((c, i) => {
      t.ok(Buffer.isBuffer(c.frame), `block ${i}: frame is a Buffer`);
      t.equal(c.crc, crc32(c.frame), `block ${i}: crc is the CRC32 of the frame`);
      t.equal(c.rawLength, originals[i]!.length, `block ${i}: rawLength`);
      t.equal(c.entries, i * 10, `block ${i}: entries passed on`);
      t.same(c.cursor, { after: `key-${i}`, i }, `block ${i}: cursor passed on`);
    });

    const inputs = compressed.map((c, i) => ({ frame: c.frame, rawLength: c.rawLength, crc: c.crc, seq: i, cursor: c.cursor }));
    const out = await collect<{ data: Buffer; rawLength: number; seq: number; cursor: unknown }>(
      inputs,
      new Decompressor({ blocks: true }),
    );
    t.equal(out.length, blocks.length);
    out.forEach((o, i) => {
      t.ok(o.data.equals(originals[i]!), `block ${i}: data back exactly`);
      t.equal(o.seq, i, `block ${i}: extra fields passed on in order`);
      t.same(o.cursor, { after: `key-${i}`, i });
      t.equal(o.rawLength, originals[i]!.length);
    });
  });
}

t.test('a block given to the compressor stays the caller\'s; one lent along a recipe\'s pipeline may be taken over', async (t) => {
  const data = randomBytes(50_000);
  const mine = Buffer.allocUnsafeSlow(data.length);
  data.copy(mine);
  const [c] = await collect<CompressedBlock>([{ data: mine, entries: 1 }], new Compressor({ blocks: true }));
  t.ok(mine.equals(data), 'the caller\'s block is neither moved nor reused');
  const [d] = await collect<{ data: Buffer }>([{ frame: c!.frame, rawLength: c!.rawLength }], new Decompressor({ blocks: true }));
  t.ok(d!.data.equals(data));
  const leases = new Leases();
  const lent = Buffer.allocUnsafeSlow(data.length);
  data.copy(lent);
  leases.lend(lent);
  const [c2] = await collect<CompressedBlock>([{ data: lent, entries: 1 }], new Compressor(withLeases({ blocks: true }, leases)));
  t.equal(lent.byteLength, 0, 'a lent block was moved to a worker, not copied');
  t.ok(c2!.frame.equals(c!.frame), 'same frame either way');
});

t.test('a wrong CRC, a wrong rawLength or a non-frame is a typed error', async (t) => {
  const data = Buffer.from('some block data '.repeat(1000));
  for (const codec of ['zstd', 'lz4', 'none'] as CodecName[]) {
    const [c] = await collect<CompressedBlock>([{ data, entries: 1 }], new Compressor({ codec, blocks: true }));
    await t.rejects(
      collect([{ frame: c!.frame, rawLength: c!.rawLength, crc: (c!.crc ^ 1) >>> 0 }], new Decompressor({ blocks: true })),
      { code: 'SNAP_ERR_CHECKSUM' },
      `${codec}: wrong crc`,
    );
    await t.rejects(
      collect([{ frame: c!.frame, rawLength: c!.rawLength + 1 }], new Decompressor({ blocks: true })),
      { code: /^SNAP_ERR_(FORMAT|CODEC)$/ },
      `${codec}: wrong rawLength`,
    );
  }
  await t.rejects(
    collect([{ frame: Buffer.from('not a frame at all'), rawLength: 5 }], new Decompressor({ blocks: true })),
    { code: /^SNAP_ERR_(FORMAT|CODEC)$/ },
    'not a frame',
  );
  await t.rejects(collect([{ frame: 'x', rawLength: 1 }], new Decompressor({ blocks: true })), { code: 'SNAP_ERR_INVALID_ARGUMENT' });
  await t.rejects(collect([{ nodata: true }], new Compressor({ blocks: true })), { code: 'SNAP_ERR_INVALID_ARGUMENT' });
  await t.rejects(
    collect([{ frame: Buffer.alloc(10), rawLength: 2 ** 31 }], new Decompressor({ blocks: true })),
    { code: 'SNAP_ERR_LIMIT' },
    'a rawLength claiming 2 GiB is refused before allocation',
  );
});

t.test('entries → EntryEncoder → Compressor → Decompressor → EntryDecoder, all in block mode', async (t) => {
  const entries: Entry[] = Array.from({ length: 5000 }, (_, i) => ({
    key: `key-${i}`,
    value: i % 2 ? Buffer.alloc(i % 300, i) : `value ${i} `.repeat(i % 20),
    ...(i % 4 === 0 ? { expiresAt: 1e12 + i } : {}),
  }));
  for (const codec of ['zstd', 'lz4', 'none'] as CodecName[]) {
    const got = await collect<DecodedEntry>(
      entries,
      new EntryEncoder({ blocks: true, blockSize: 8192 }),
      new Compressor({ blocks: true, codec }),
      new Decompressor({ blocks: true }),
      new EntryDecoder({ blocks: true }),
    );
    t.equal(got.length, entries.length, `${codec}: count`);
    const mismatch = got.findIndex((g, i) => {
      const w = entries[i]!;
      return g.key !== w.key || typeof g.value !== typeof w.value || Buffer.compare(Buffer.from(g.value as never), Buffer.from(w.value as never)) !== 0 || g.expiresAt !== w.expiresAt;
    });
    t.equal(mismatch, -1, `${codec}: every entry equal`);
  }
});
