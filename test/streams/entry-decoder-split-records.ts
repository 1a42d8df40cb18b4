/**
 * EntryDecoder reads records cut anywhere: the same encoded bytes fed in chunks of every size
 * from 1 byte up, and split once at every byte offset, decode to the same entries; input that
 * ends inside a record is a TruncatedError.
 */
import t from 'tap';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EntryDecoder, EntryEncoder, type DecodedEntry, type Entry } from '../../lib/index.js';
import { EntryParser } from '../../lib/format/entry-parser.js';

const entries: Entry[] = [
  { key: 'a', value: 'b' },
  { key: '', value: '' },
  { key: Buffer.from([0, 1, 2]), value: Buffer.alloc(40, 9), expiresAt: 1_700_000_000_000 },
  { key: 'ключ', value: '🙂 値', expiresAt: 0 },
  { key: Buffer.alloc(0), value: 'x'.repeat(300) },
  { key: 'last', value: Buffer.from('end'), expiresAt: 2 ** 40 + 7 },
];

async function encode(list: Entry[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(
    Readable.from(list),
    new EntryEncoder(),
    new Writable({
      write(c: Buffer, _e, cb) {
        chunks.push(c);
        cb();
      },
    }),
  );
  return Buffer.concat(chunks);
}

/** Decodes `chunks` with the stream (one write per chunk), in a fresh copy of each chunk. */
async function decodeChunks(chunks: Buffer[], options = {}): Promise<DecodedEntry[]> {
  const out: DecodedEntry[] = [];
  await pipeline(
    Readable.from(chunks.map((c) => Buffer.from(c))),
    new EntryDecoder(options),
    new Writable({
      objectMode: true,
      write(e: DecodedEntry, _x, cb) {
        out.push(e);
        cb();
      },
    }),
  );
  return out;
}

/** Comparable form of decoded entries (copies bytes, tags types). */
function plain(list: DecodedEntry[]): unknown[] {
  return list.map((e) => ({
    key: typeof e.key === 'string' ? e.key : `hex:${e.key.toString('hex')}`,
    value: typeof e.value === 'string' ? e.value : `hex:${e.value.toString('hex')}`,
    expiresAt: e.expiresAt,
  }));
}

/** Synchronous decode through the parser, so thousands of chunkings stay fast. */
function parseChunks(chunks: Buffer[]): unknown[] {
  const parser = new EntryParser();
  const out: DecodedEntry[] = [];
  for (const c of chunks) parser.write(c, (e) => out.push(e));
  parser.end();
  return plain(out);
}

function cut(bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return chunks;
}

t.test('chunks of every size from 1 byte to the whole input', async (t) => {
  const bytes = await encode(entries);
  const want = plain(await decodeChunks([bytes]));
  t.equal(want.length, entries.length);
  t.match(want[3], { key: 'ключ', value: '🙂 値', expiresAt: 0 });
  let failures = 0;
  for (let size = 1; size <= bytes.length; size++) {
    const got = parseChunks(cut(bytes, size));
    if (JSON.stringify(got) !== JSON.stringify(want)) failures++;
  }
  t.equal(failures, 0, `all ${bytes.length} chunk sizes decode the same (parser)`);
  // The stream itself, for the small sizes where every record is split many ways.
  for (const size of [1, 2, 3, 5, 8, 9, 10, 16, 17, 33, 64]) {
    t.strictSame(plain(await decodeChunks(cut(bytes, size))), want, `stream, chunks of ${size}`);
  }
});

t.test('one split at every byte offset', async (t) => {
  const bytes = await encode(entries);
  const want = parseChunks([bytes]);
  const bad: number[] = [];
  for (let at = 0; at <= bytes.length; at++) {
    const got = parseChunks([bytes.subarray(0, at), bytes.subarray(at)]);
    if (JSON.stringify(got) !== JSON.stringify(want)) bad.push(at);
  }
  t.same(bad, [], 'every split point decodes the same');
  // Two splits, through the stream, at every offset of the first record with expiry.
  for (let at = 0; at < 80; at++) {
    const got = plain(await decodeChunks([bytes.subarray(0, at), bytes.subarray(at, at + 7), bytes.subarray(at + 7)]));
    if (JSON.stringify(got) !== JSON.stringify(want)) bad.push(at);
  }
  t.same(bad, [], 'two splits through the stream');
});

t.test('split records keep their data when the input chunks are reused', async (t) => {
  const bytes = await encode(entries);
  const parser = new EntryParser();
  const out: DecodedEntry[] = [];
  for (const c of cut(bytes, 5)) {
    const reused = Buffer.from(c);
    parser.write(reused, (e) => out.push(e));
    // Callers may reuse a chunk once written; a record gathered across chunks must not change.
    reused.fill(0xee);
  }
  parser.end();
  const gathered = plain(out).filter((_, i) => i === 4);
  t.strictSame(gathered, [{ key: 'hex:', value: 'x'.repeat(300), expiresAt: undefined }]);
});

t.test('input ending inside a record is a TruncatedError, at any cut', async (t) => {
  const bytes = await encode(entries.slice(0, 3));
  const recordEnds = new Set<number>([0]);
  const parser = new EntryParser();
  parser.write(bytes, () => recordEnds.add(parser.offset)); // offset: the end of the record just emitted
  t.equal(recordEnds.size, 4);
  let checked = 0;
  for (let end = 1; end < bytes.length; end++) {
    if (recordEnds.has(end)) continue;
    checked++;
    await t.rejects(decodeChunks(cut(bytes.subarray(0, end), 4)), { code: 'SNAP_ERR_TRUNCATED', name: 'TruncatedError' });
  }
  t.ok(checked > 40, `checked ${checked} cuts`);
  // Whole records only: no error.
  t.equal((await decodeChunks([bytes])).length, 3);
});
