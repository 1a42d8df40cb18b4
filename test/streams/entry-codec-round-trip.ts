/**
 * EntryEncoder → EntryDecoder gives back exactly the entries put in: Buffers as Buffers,
 * strings as strings, empty and unicode fields, records larger than a block (in a block of
 * their own), arrays of entries written as one batch, `batch: true`, `copy: true` and block mode.
 */
import t, { type Test } from 'tap';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EntryDecoder, EntryEncoder, createEntryDecoder, createEntryEncoder, type DecodedEntry, type Entry } from '../../lib/index.js';
import type { RawBlock } from '../../lib/format/block.js';
import { EntryParser } from '../../lib/format/entry-parser.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0xfbd64341);

async function collect<T>(...streams: NodeJS.ReadWriteStream[] | any[]): Promise<T[]> {
  const out: T[] = [];
  const sink = new Writable({
    objectMode: true,
    write(chunk: T, _e, cb) {
      out.push(chunk);
      cb();
    },
  });
  await pipeline([...streams, sink] as any);
  return out;
}

async function roundTrip(entries: (Entry | Entry[])[], encoderOptions = {}, decoderOptions = {}): Promise<DecodedEntry[]> {
  return collect<DecodedEntry>(Readable.from(entries), new EntryEncoder(encoderOptions), new EntryDecoder(decoderOptions));
}

/** What a string field should decode to: its UTF-8 round trip (lone surrogates become U+FFFD). */
function viaUtf8(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

/** A comparable form of an entry: each field tagged with its type, bytes as hex. */
function shape(e: Entry | DecodedEntry): unknown {
  const field = (v: unknown) =>
    typeof v === 'string' ? ['string', viaUtf8(v)] : Buffer.isBuffer(v) ? ['Buffer', v.toString('hex')] : ['Uint8Array', Buffer.from(v as Uint8Array).toString('hex')];
  return {
    key: field(e.key),
    value: field(e.value),
    ...(e.expiresAt === undefined || e.expiresAt === null ? {} : { expiresAt: e.expiresAt }),
    hasExpiresAt: 'expiresAt' in e && e.expiresAt !== undefined && e.expiresAt !== null,
  };
}

/** Decoded entries equal the input: strings as strings, bytes (Buffer or Uint8Array) as Buffers. */
function checkSame(t: Test, got: DecodedEntry[], want: Entry[]): void {
  t.equal(got.length, want.length, 'entry count');

  const wantShape = want.map((w) => {
    const s = shape(w) as { key: string[]; value: string[] };
    if (s.key[0] === 'Uint8Array') s.key[0] = 'Buffer';
    if (s.value[0] === 'Uint8Array') s.value[0] = 'Buffer';
    return s;
  });
  t.strictSame(got.map(shape), wantShape, 'entries, field types and expiry');
}

t.test('Buffer and string keys and values keep their types', async (t) => {
  const entries: Entry[] = [
    { key: 'text key', value: 'text value' },
    { key: Buffer.from([1, 2, 3]), value: Buffer.from([0, 255, 128]) },
    { key: 'mixed', value: Buffer.from('bytes value') },
    { key: Buffer.from('bytes key'), value: 'text value' },
    { key: new Uint8Array([9, 8, 7]), value: new Uint8Array([6, 5]) },
    { key: 'with expiry', value: 'v', expiresAt: 1_700_000_000_123 },
    { key: 'expiry null', value: 'v', expiresAt: null },
    { key: 'expiry zero', value: 'v', expiresAt: 0 },
    { key: 'expiry max safe', value: 'v', expiresAt: Number.MAX_SAFE_INTEGER },
  ];
  const got = await roundTrip(entries);
  checkSame(t, got, entries);
  // A string that looks like bytes stays a string, and bytes that are valid UTF-8 stay bytes.
  t.equal(got[0]!.key, 'text key');
  t.ok(Buffer.isBuffer(got[3]!.key));
});

t.test('empty keys and values', async (t) => {
  const entries: Entry[] = [
    { key: '', value: '' },
    { key: Buffer.alloc(0), value: Buffer.alloc(0) },
    { key: '', value: Buffer.alloc(0), expiresAt: 5 },
    { key: Buffer.alloc(0), value: 'x' },
  ];
  const got = await roundTrip(entries);
  checkSame(t, got, entries);
  t.equal(got[0]!.key, '');
  t.equal((got[1]!.value as Buffer).length, 0);
});

t.test('unicode: multi-byte, astral characters and lone surrogates', async (t) => {
  const loneHigh = 'a\ud83db';
  const loneLow = '\udc00';
  const entries: Entry[] = [
    { key: 'héllo wörld', value: 'ünïcödé ✓ €' },
    { key: '日本語のキー', value: '中文值'.repeat(100) },
    { key: '😀🎉👨‍👩‍👧‍👦', value: '𝕳𝖊𝖑𝖑𝖔 𐍈 🀄' },
    { key: loneHigh, value: loneLow },
    { key: '\u0000nul\u0000', value: '\uffff\ufeff' },
  ];
  const got = await roundTrip(entries);
  checkSame(t, got, entries);
  t.equal(got[2]!.key, '😀🎉👨‍👩‍👧‍👦', 'astral characters survive exactly');
  t.equal(got[2]!.value, '𝕳𝖊𝖑𝖑𝖔 𐍈 🀄');
  // Strings are stored as UTF-8: a lone surrogate cannot be, and becomes U+FFFD.
  t.equal(got[3]!.key, 'a\ufffdb');
  t.equal(got[3]!.value, '\ufffd');
});

t.test('unicode near a block boundary uses exact byte lengths', async (t) => {
  // Strings whose worst-case size (3 bytes per UTF-16 unit) does not fit what is left of a
  // block, but whose real size does, and strings of 4-byte characters right at the edge.
  const entries: Entry[] = [];
  for (let i = 0; i < 400; i++) {
    entries.push({ key: `k${i}`, value: i % 2 ? 'é'.repeat(i) : '🙂'.repeat(i % 37) + 'x'.repeat(i) });
  }
  const chunks = await collect<Buffer>(Readable.from(entries), new EntryEncoder({ blockSize: 4096 }));
  t.ok(chunks.length > 5, 'several blocks');
  for (const c of chunks) t.ok(c.length <= 4096, 'no block is over blockSize');
  const got = await collect<DecodedEntry>(Readable.from(chunks), new EntryDecoder());
  checkSame(t, got, entries);
});

t.test('a record bigger than blockSize gets a block of its own', async (t) => {
  const blockSize = 4096;
  const big = randomBytes(3 * blockSize + 5);
  const bigText = 'é'.repeat(blockSize); // 8 KiB of UTF-8
  const entries: Entry[] = [
    { key: 'a', value: 'small' },
    { key: 'big', value: big },
    { key: 'b', value: 'small' },
    { key: 'bigText', value: bigText, expiresAt: 42 },
    { key: Buffer.alloc(blockSize * 2, 7), value: Buffer.alloc(0) },
  ];
  const chunks = await collect<Buffer>(Readable.from(entries), new EntryEncoder({ blockSize }));
  const sizes = chunks.map((c) => c.length);
  t.same(sizes, [9 + 1 + 5, 9 + 3 + big.length, 9 + 1 + 5, 9 + 8 + 7 + 2 * blockSize, 9 + 2 * blockSize], 'record sizes');
  // Every block holds whole records only.
  for (const c of chunks) {
    const parser = new EntryParser();
    parser.writeWhole(c, () => {});
    t.equal(parser.entries, 1, 'one whole record per block');
  }
  const got = await collect<DecodedEntry>(Readable.from(chunks), new EntryDecoder());
  checkSame(t, got, entries);
});

t.test('small records are packed into blocks up to blockSize', async (t) => {
  const entries: Entry[] = [];
  for (let i = 0; i < 2000; i++) entries.push({ key: `key-${i}`, value: Buffer.alloc(50, i & 255) });
  const chunks = await collect<Buffer>(Readable.from(entries), new EntryEncoder({ blockSize: 8192 }));
  const total = chunks.reduce((n, c) => n + c.length, 0);
  t.equal(total, entries.reduce((n, e) => n + 9 + Buffer.byteLength(e.key as string) + 50, 0), 'total bytes');
  chunks.slice(0, -1).forEach((c) => t.ok(c.length > 8192 - 80 && c.length <= 8192, `full block (${c.length})`));
  const got = await collect<DecodedEntry>(Readable.from(chunks), new EntryDecoder());
  checkSame(t, got, entries);
});

t.test('an array of entries is one write (a batch)', async (t) => {
  const batch1: Entry[] = Array.from({ length: 500 }, (_, i) => ({ key: `a${i}`, value: `v${i}` }));
  const batch2: Entry[] = Array.from({ length: 3 }, (_, i) => ({ key: Buffer.from([i]), value: Buffer.from([i, i]) }));
  const single: Entry = { key: 'single', value: 'one' };
  const encoder = createEntryEncoder({ blockSize: 4096 });
  let writes = 0;
  const origWrite = encoder._transform.bind(encoder);
  encoder._transform = (chunk, enc, cb) => {
    writes++;
    origWrite(chunk, enc, cb);
  };
  const got = await collect<DecodedEntry>(Readable.from([batch1, single, batch2, []]), encoder, createEntryDecoder());
  t.equal(writes, 4, 'four writes for 504 entries');
  t.equal(encoder.entries, 504);
  checkSame(t, got, [...batch1, single, ...batch2]);
});

t.test('batch: true emits arrays of entries', async (t) => {
  const entries: Entry[] = Array.from({ length: 3000 }, (_, i) => ({
    key: `key-${i}`,
    value: i % 3 ? `value-${i}` : Buffer.from(`bytes-${i}`),
    ...(i % 5 === 0 ? { expiresAt: 1e12 + i } : {}),
  }));
  const blocks = await collect<Buffer>(Readable.from(entries), new EntryEncoder({ blockSize: 16384 }));
  const arrays = await collect<DecodedEntry[]>(Readable.from(blocks), new EntryDecoder({ batch: true }));
  t.ok(arrays.length >= 2, 'more than one batch');
  t.ok(arrays.every((a) => a.length >= 1 && a.length <= 2048), 'every batch holds 1 to 2,048 entries');
  for (const a of arrays) t.ok(Array.isArray(a) && a.length > 0, 'a non-empty array');
  checkSame(t, arrays.flat(), entries);
});

t.test('batch: true with records split across chunks', async (t) => {
  const entries: Entry[] = Array.from({ length: 200 }, (_, i) => ({ key: `k${i}`, value: 'x'.repeat(i) }));
  const [bytes] = [Buffer.concat(await collect<Buffer>(Readable.from(entries), new EntryEncoder()))];
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += 333) chunks.push(bytes.subarray(at, at + 333));
  const arrays = await collect<DecodedEntry[]>(Readable.from(chunks), new EntryDecoder({ batch: true }));
  checkSame(t, arrays.flat(), entries);
});

t.test('copy: false gives views of the input; copy: true gives independent Buffers', async (t) => {
  const entries: Entry[] = [{ key: Buffer.from('key'), value: Buffer.from('value') }];
  const encoded = Buffer.concat(await collect<Buffer>(Readable.from(entries), new EntryEncoder()));

  const viewInput = Buffer.from(encoded);
  const [view] = await collect<DecodedEntry>(Readable.from([viewInput]), new EntryDecoder());

  const copyInput = Buffer.from(encoded);
  const [copied] = await collect<DecodedEntry>(Readable.from([copyInput]), new EntryDecoder({ copy: true }));
  copyInput.fill(0);
  viewInput.fill(0);
  t.equal((copied!.key as Buffer).toString(), 'key', 'copied key survives the input being reused');
  t.equal((copied!.value as Buffer).toString(), 'value', 'copied value survives the input being reused');
  t.equal((view!.value as Buffer).toString(), '\0'.repeat(5), 'default: the value is a view of the input chunk');
});

t.test('block mode: RawBlocks with entry counts and cursors, read back block by block', async (t) => {
  const entries: Entry[] = Array.from({ length: 1000 }, (_, i) => ({ key: `key-${i}`, value: Buffer.alloc(30, i) }));
  const blocks = await collect<RawBlock>(
    Readable.from(entries),
    new EntryEncoder({ blocks: true, blockSize: 4096, cursorOf: (e) => `after:${e.key as string}` }),
  );
  t.ok(blocks.length > 5, 'several blocks');
  let seen = 0;
  for (const b of blocks) {
    t.ok(Buffer.isBuffer(b.data) && b.data.length <= 4096, 'data within blockSize');
    seen += b.entries;
    t.equal(b.cursor, `after:key-${seen - 1}`, 'cursor names the last entry of the block');
  }
  t.equal(seen, entries.length, 'entry counts add up');
  const got = await collect<DecodedEntry>(Readable.from(blocks), new EntryDecoder({ blocks: true }));
  checkSame(t, got, entries);
});

t.test('no entries: no output, and the decoder ends cleanly', async (t) => {
  const chunks = await collect<Buffer>(Readable.from([] as Entry[]), new EntryEncoder());
  t.same(chunks, []);
  const got = await collect<DecodedEntry>(Readable.from([Buffer.alloc(0)]), new EntryDecoder());
  t.same(got, []);
});

t.test('entry and expired counters', async (t) => {
  const entries: Entry[] = Array.from({ length: 10 }, (_, i) => ({ key: `${i}`, value: '' }));
  const encoder = new EntryEncoder();
  const decoder = new EntryDecoder();
  const got = await collect<DecodedEntry>(Readable.from(entries), encoder, decoder);
  t.equal(got.length, 10);
  t.equal(encoder.entries, 10);
  t.equal(decoder.entries, 10);
  t.equal(decoder.expired, 0);
});
