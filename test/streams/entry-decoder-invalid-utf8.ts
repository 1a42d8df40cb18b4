/**
 * Text that is not valid UTF-8 (docs/FORMAT.md section 1, "Invalid UTF-8"): a record whose key
 * or value is flagged as text but holds ill-formed UTF-8 is not an error; the EntryDecoder
 * decodes it as the WHATWG "UTF-8 decode without BOM" does (TextDecoder with ignoreBOM): one
 * U+FFFD per maximal ill-formed subsequence, a leading BOM kept as U+FEFF. The same holds with
 * the record split across chunks, and for the JSON metadata of a snapshot header.
 */
import t from 'tap';
import { Readable } from 'node:stream';
import { crc32, EntryDecoder, inspectSnapshot, type DecodedEntry } from '../../lib/index.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Ill-formed (and two well-formed) UTF-8 byte sequences, as hex. */
const SEQUENCES = [
  'c3', // a cut 2-byte sequence
  'c328', // a lead byte, then ASCII
  'a0a1', // continuation bytes alone
  'e282', // a cut 3-byte sequence
  'e228a1',
  'f0908c', // a cut 4-byte sequence: one U+FFFD
  'f0288c28',
  'eda080', // an encoded surrogate: three U+FFFD
  'f4908080', // beyond U+10FFFF
  'c0af', // overlong
  'e080af', // overlong
  'ff',
  'f888808080', // a 5-byte form
  '61edb08062', // text around a bad sequence
  'efbbbf61', // a BOM: kept, as U+FEFF
  'efbfbd', // U+FFFD itself, well-formed
  'f09f9880', // U+1F600, well-formed
];

const whatwg = new TextDecoder('utf-8', { ignoreBOM: true });

/** A record with text flags on key and value (flags 0x06), no expiry. */
function record(key: Buffer, value: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h[0] = 0x06;
  h.writeUInt32LE(key.length, 1);
  h.writeUInt32LE(value.length, 5);
  return Buffer.concat([h, key, value]);
}

async function decode(chunks: Buffer[]): Promise<DecodedEntry[]> {
  const out: DecodedEntry[] = [];
  for await (const e of Readable.from(chunks).pipe(new EntryDecoder())) out.push(e as DecodedEntry);
  return out;
}

t.test('ill-formed UTF-8 text decodes with U+FFFD, as TextDecoder does, without error', async (t) => {
  const bytes = SEQUENCES.map((hex) => Buffer.from(hex, 'hex'));
  const stream = Buffer.concat(bytes.map((b) => record(Buffer.concat([Buffer.from('k:'), b]), b)));
  for (const [how, chunks] of [
    ['whole', [stream]],
    ['a byte at a time', [...stream].map((b) => Buffer.from([b]))],
  ] as const) {
    const entries = await decode(chunks as Buffer[]);
    t.equal(entries.length, SEQUENCES.length, `${how}: every record`);
    entries.forEach((e, i) => {
      const b = bytes[i]!;
      t.equal(e.value, whatwg.decode(b), `${how}: value ${SEQUENCES[i]} → ${JSON.stringify(e.value)}`);
      t.equal(e.key, `k:${whatwg.decode(b)}`, `${how}: key ${SEQUENCES[i]}`);
    });
  }
  const [surrogate] = await decode([record(Buffer.from('k'), Buffer.from('eda080', 'hex'))]);
  t.equal(surrogate!.value, '\ufffd\ufffd\ufffd', 'an encoded surrogate: three U+FFFD');
  const [cut] = await decode([record(Buffer.from('k'), Buffer.from('f0908c', 'hex'))]);
  t.equal(cut!.value, '\ufffd', 'a cut 4-byte sequence: one U+FFFD');
  const [bom] = await decode([record(Buffer.from('k'), Buffer.from('efbbbf61', 'hex'))]);
  t.equal(bom!.value, '\ufeffa', 'a leading BOM is kept');
});

t.test('ill-formed UTF-8 inside a JSON string of the header metadata becomes U+FFFD', async (t) => {
  // tiny-none.snap's meta {"index":42,"term":7} → {"index":42,"t\xff":7}, its CRC recomputed.
  const golden = fileURLToPath(new URL('../fixtures/golden/tiny-none.snap', import.meta.url));
  const bytes = fs.readFileSync(golden);
  const length = bytes.readUInt32LE(4);
  const body = bytes.subarray(8, 4 + length);
  const at = body.indexOf('"term"') + 2;
  body[at] = 0xff;
  bytes.writeUInt32LE(crc32(body), 4 + length);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'snapstream-utf8-')), 'meta.snap');
  t.teardown(() => fs.rmSync(path.dirname(file), { recursive: true, force: true }));
  fs.writeFileSync(file, bytes);
  t.same((await inspectSnapshot(file)).header.meta, { index: 42, 't\ufffdrm': 7 });
});
