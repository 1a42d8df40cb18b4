/**
 * CrcFooter appends a 24-byte trailer (a skippable frame holding the CRC32 and length of
 * everything before it); CrcVerifier passes the data on with exactly that trailer removed,
 * however the input is chunked. CrcFooter's `initial` continues a CRC started elsewhere.
 */
import t from 'tap';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import {
  CRC_TRAILER_SIZE,
  CrcFooter,
  CrcVerifier,
  crc32,
  crcTrailer,
  createCrcFooter,
  createCrcVerifier,
  InvalidArgumentError,
} from '../../lib/index.js';
import { cut, pipeBytes as run } from '../fixtures/pipe-through.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0xecb4c0fb);

const require = createRequire(import.meta.url);
const CRC32 = require('crc-32') as { buf(data: Uint8Array, seed?: number): number };

t.test('the trailer layout', async (t) => {
  t.equal(CRC_TRAILER_SIZE, 24);
  const data = Buffer.from('hello, snapshot');
  const framed = await run([data], new CrcFooter());
  t.equal(framed.length, data.length + 24);
  t.ok(framed.subarray(0, data.length).equals(data), 'data passes unchanged');
  const trailer = framed.subarray(data.length);
  t.equal(trailer.readUInt32LE(0), 0x184d2a5a, 'skippable frame magic');
  t.equal(trailer.readUInt32LE(4), 16, 'payload length');
  t.equal(trailer.toString('latin1', 8, 12), 'SCRC', 'tag');
  t.equal(trailer.readUInt32LE(12), CRC32.buf(data) >>> 0, 'CRC32 of the data (crc-32 package)');
  const nodeCrc = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
  if (nodeCrc) t.equal(trailer.readUInt32LE(12), nodeCrc(data), 'CRC32 of the data (zlib.crc32)');
  t.equal(Number(trailer.readBigUInt64LE(16)), data.length, 'length of the data');
  t.ok(trailer.equals(crcTrailer(crc32(data), data.length)), 'crcTrailer builds the same bytes');
});

t.test('empty input: just the trailer, and it verifies to nothing', async (t) => {
  const framed = await run([], createCrcFooter());
  t.ok(framed.equals(crcTrailer(0, 0)), 'trailer of CRC 0, length 0');
  const back = await run([framed], createCrcVerifier());
  t.equal(back.length, 0);
});

t.test('round trip: the verifier strips exactly the trailer, for any chunking', async (t) => {
  const data = randomBytes(200_003);
  const footer = new CrcFooter();
  const framed = await run(cut(data, 65536), footer);
  t.equal(framed.length, data.length + CRC_TRAILER_SIZE);
  t.equal(footer.crc, crc32(data), 'footer.crc');
  t.equal(footer.length, data.length, 'footer.length');
  for (const size of [1000, 65536, framed.length - 1, framed.length]) {
    const verifier = new CrcVerifier();
    const back = await run(cut(framed, size), verifier);
    t.ok(back.equals(data), `chunks of ${size}: data back exactly`);
    t.equal(verifier.length, data.length, `chunks of ${size}: verifier.length`);
    t.equal(verifier.crc, crc32(data), `chunks of ${size}: verifier.crc`);
  }
  // Chunks around the trailer's size, on a shorter stream to keep this fast.
  const small = data.subarray(0, 4976);
  const smallFramed = Buffer.concat([small, crcTrailer(crc32(small), small.length)]);
  for (const size of [1, 7, 23, 24, 25, 48]) {
    const back = await run(cut(smallFramed, size), new CrcVerifier());
    t.ok(back.equals(small), `chunks of ${size}: data back exactly`);
  }
});

t.test('a trailer split across chunks, with chunks smaller than the trailer', async (t) => {
  const data = randomBytes(100);
  const framed = Buffer.concat([data, crcTrailer(crc32(data), data.length)]);
  for (let split = 0; split <= framed.length; split++) {
    const back = await run([framed.subarray(0, split), framed.subarray(split)].filter((c) => c.length > 0), new CrcVerifier());
    if (!back.equals(data)) t.fail(`split at ${split}`);
  }
  t.pass('every split point');
});

t.test('data is passed on before the end (streaming), held back only by 24 bytes', async (t) => {
  const data = randomBytes(10_000);
  const verifier = new CrcVerifier();
  const seen: number[] = [];
  verifier.on('data', (c: Buffer) => seen.push(c.length));
  verifier.write(data.subarray(0, 5000));
  await new Promise((r) => setImmediate(r));
  t.equal(seen.reduce((a, b) => a + b, 0), 5000 - CRC_TRAILER_SIZE, 'all but the last 24 bytes already out');
  verifier.end(Buffer.concat([data.subarray(5000), crcTrailer(crc32(data), data.length)]));
  await new Promise((r) => verifier.on('end', r));
  t.equal(seen.reduce((a, b) => a + b, 0), data.length);
});

t.test('initial continues a CRC started elsewhere (resuming)', async (t) => {
  const a = randomBytes(70_000);
  const b = randomBytes(50_001);
  const whole = Buffer.concat([a, b]);
  const footer = new CrcFooter({ initial: { crc: crc32(a), length: a.length } });
  const tail = await run(cut(b, 4096), footer);
  t.ok(tail.subarray(0, b.length).equals(b), 'only the new bytes pass');
  const trailer = tail.subarray(b.length);
  t.ok(trailer.equals(crcTrailer(crc32(whole), whole.length)), 'trailer covers A‖B');
  t.equal(footer.crc, crc32(whole));
  t.equal(footer.length, whole.length);
  // What was written before plus what this footer wrote verifies as one stream.
  const back = await run([a, tail], new CrcVerifier());
  t.ok(back.equals(whole));
  // Without `initial`, the same tail does not verify after A.
  const wrong = await run([b], new CrcFooter());
  await t.rejects(run([a, wrong], new CrcVerifier()), { code: /SNAP_ERR_(CHECKSUM|TRUNCATED)/ });
});

t.test('initial is validated', async (t) => {
  for (const initial of [{ crc: 1.5, length: 0 }, { crc: 0, length: -1 }, { crc: 0, length: 0.5 }, { crc: NaN, length: 0 }]) {
    t.throws(() => new CrcFooter({ initial }), InvalidArgumentError, JSON.stringify(initial));
    t.throws(() => new CrcFooter({ initial }), { code: 'SNAP_ERR_INVALID_ARGUMENT' });
  }
});
