/**
 * `verify FILE` of a file with a CRC trailer reads the file into one reused buffer
 * (lib/cli/verify-crc-file.ts) instead of streaming it through a CrcVerifier: its verdict is the
 * CrcVerifier's for every file — intact, a flipped byte anywhere, cut short, extended, no
 * trailer, shorter than a trailer, empty — whatever the read size, so the trailer may straddle
 * two reads or arrive a byte at a time; a missing file is an I/O error, not damage.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CrcVerifier, crc32, crcTrailer, isCorruptionError } from '../../lib/index.js';
import { VERIFY_READ_SIZE, verifyCrcFile } from '../../lib/cli/verify-crc-file.js';
import { mulberry32, randomBytesSeeded, testSeed } from '../fixtures/random.js';

/** The CrcVerifier's verdict on `bytes`: null, or its error's code, message and fields. */
async function streamVerdict(bytes: Buffer): Promise<object | null> {
  const err = await pipeline(Readable.from([bytes]), new CrcVerifier(), new Writable({ write: (_c, _e, cb) => cb() })).then(
    () => null,
    (e: unknown) => e as Error & Record<string, unknown>,
  );
  return err && { code: err.code, message: err.message, offset: err.offset, expected: err.expected, actual: err.actual };
}

async function fileVerdict(file: string, readSize: number): Promise<object | null> {
  const err = await verifyCrcFile(file, undefined, readSize).then(
    () => null,
    (e: unknown) => e as Error & Record<string, unknown>,
  );
  return err && { code: err.code, message: err.message, offset: err.offset, expected: err.expected, actual: err.actual };
}

const seed = testSeed(t, 0x7e41f11e);
const rand = mulberry32(seed);
const data = randomBytesSeeded(3000, seed);
const framed = Buffer.concat([data, crcTrailer(crc32(data), data.length)]);

const cases: [string, Buffer][] = [
  ['intact', framed],
  ['empty data, trailer only', crcTrailer(0, 0)],
  ['empty file', Buffer.alloc(0)],
  ['shorter than a trailer', framed.subarray(0, 10)],
  ['no trailer', data],
  ['cut by one byte', framed.subarray(0, -1)],
  ['cut inside the data', framed.subarray(0, 1500)],
  ['a byte after the trailer', Buffer.concat([framed, Buffer.from([0])])],
  ['two trailers', Buffer.concat([framed, crcTrailer(crc32(framed), framed.length)])],
];
for (const at of [0, 1, 1499, data.length - 1, data.length + 12, data.length + 16, framed.length - 1]) {
  const bad = Buffer.from(framed);
  bad[at]! ^= 0x40;
  cases.push([`byte ${at} flipped`, bad]);
}
for (let i = 0; i < 6; i++) {
  const bad = Buffer.from(framed);
  const at = Math.floor(rand() * framed.length);
  bad[at]! ^= 1 + Math.floor(rand() * 255);
  cases.push([`byte ${at} changed (seeded)`, bad]);
}

t.test('the verdict is the CrcVerifier’s, at every read size', async (t) => {
  const dir = t.testdir();
  for (const [name, bytes] of cases) {
    const file = path.join(dir, 'f.bin');
    fs.writeFileSync(file, bytes);
    const expected = await streamVerdict(bytes);
    for (const readSize of [1, 7, 23, 24, 25, 1000, 3000, 3024, VERIFY_READ_SIZE]) {
      t.same(await fileVerdict(file, readSize), expected, `${name}, reads of ${readSize}`);
    }
  }
});

t.test('an intact file: its size, and the length and CRC its trailer holds', async (t) => {
  const file = path.join(t.testdir(), 'ok.bin');
  fs.writeFileSync(file, framed);
  const seen: number[] = [];
  t.same(await verifyCrcFile(file, (n) => seen.push(n), 1024), { bytes: framed.length, length: data.length, crc: crc32(data) });
  t.same(seen, [1024, 2048, framed.length], 'bytes read so far, after each read');
});

t.test('a file bigger than one read, damaged in its last read only', async (t) => {
  const big = randomBytesSeeded(VERIFY_READ_SIZE * 3 + 5, seed + 1);
  const bytes = Buffer.concat([big, crcTrailer(crc32(big), big.length)]);
  const file = path.join(t.testdir(), 'big.bin');
  fs.writeFileSync(file, bytes);
  t.same(await verifyCrcFile(file), { bytes: bytes.length, length: big.length, crc: crc32(big) });
  bytes[big.length - 2]! ^= 0x01;
  fs.writeFileSync(file, bytes);
  await t.rejects(verifyCrcFile(file), { code: 'SNAP_ERR_CHECKSUM' });
});

t.test('a missing file is an I/O error, never corruption', async (t) => {
  const err = await verifyCrcFile(path.join(t.testdir(), 'nope.bin')).then(
    () => null,
    (e: unknown) => e,
  );
  t.match(err, { code: 'SNAP_ERR_IO' });
  t.notOk(isCorruptionError(err));
});
