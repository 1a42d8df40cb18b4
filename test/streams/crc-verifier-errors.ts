/**
 * CrcVerifier fails the pipeline with a typed error: a changed byte anywhere in the data or
 * the trailer's CRC is a ChecksumError (SNAP_ERR_CHECKSUM); a missing or cut trailer, or a
 * trailer claiming more bytes than came, is a TruncatedError (SNAP_ERR_TRUNCATED).
 */
import t from 'tap';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ChecksumError, CrcVerifier, crc32, crcTrailer, TruncatedError } from '../../lib/index.js';
import { mulberry32, randomBytesSeeded, testSeed } from '../fixtures/random.js';

async function verify(input: Buffer, chunkSize = 4096): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let at = 0; at < input.length; at += chunkSize) chunks.push(input.subarray(at, at + chunkSize));
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(chunks),
    new CrcVerifier(),
    new Writable({
      write(c: Buffer, _e, cb) {
        out.push(c);
        cb();
      },
    }),
  );
  return Buffer.concat(out);
}

const seed = testSeed(t, 0x5eed0c1c);
const rand = mulberry32(seed);
const data = randomBytesSeeded(50_000, seed);
const framed = Buffer.concat([data, crcTrailer(crc32(data), data.length)]);

t.test('the intact stream verifies', async (t) => {
  t.ok((await verify(framed)).equals(data));
});

t.test('a flipped data byte is a ChecksumError', async (t) => {
  const positions = [0, 1, 4095, 4096, 25_000, data.length - 25, data.length - 24, data.length - 1];
  for (let i = 0; i < 8; i++) positions.push(Math.floor(rand() * data.length));
  for (const at of positions) {
    for (const mask of [0x01, 0x80]) {
      const bad = Buffer.from(framed);
      bad[at]! ^= mask;
      const err = await verify(bad).then(() => null, (e: unknown) => e);
      t.ok(err instanceof ChecksumError, `byte ${at} ^ 0x${mask.toString(16)}: ChecksumError`);
      t.match(err, { code: 'SNAP_ERR_CHECKSUM', expected: crc32(data), offset: data.length });
    }
  }
});

t.test("a changed byte in the trailer's CRC is a ChecksumError", async (t) => {
  for (let at = data.length + 12; at < data.length + 16; at++) {
    const bad = Buffer.from(framed);
    bad[at]! ^= 0x10;
    await t.rejects(verify(bad), { code: 'SNAP_ERR_CHECKSUM' }, `trailer byte ${at - data.length}`);
  }
});

t.test('a trailer claiming fewer bytes than came is a ChecksumError; more is a TruncatedError', async (t) => {
  const fewer = Buffer.concat([data, crcTrailer(crc32(data), data.length - 1)]);
  await t.rejects(verify(fewer), { code: 'SNAP_ERR_CHECKSUM', expected: data.length - 1, actual: data.length });
  const more = Buffer.concat([data, crcTrailer(crc32(data), data.length + 100)]);
  await t.rejects(verify(more), { code: 'SNAP_ERR_TRUNCATED', expected: data.length + 100, actual: data.length });
});

t.test('a missing trailer is a TruncatedError', async (t) => {
  const err = await verify(data).then(() => null, (e: unknown) => e);
  t.ok(err instanceof TruncatedError);
  t.match(err, { code: 'SNAP_ERR_TRUNCATED', name: 'TruncatedError' });
  await t.rejects(verify(Buffer.alloc(0)), { code: 'SNAP_ERR_TRUNCATED' }, 'empty input');
  await t.rejects(verify(Buffer.from('short')), { code: 'SNAP_ERR_TRUNCATED' }, 'input shorter than a trailer');
});

t.test('a stream cut anywhere in (or just before) the trailer is a TruncatedError', async (t) => {
  for (let cutBytes = 1; cutBytes <= 30; cutBytes++) {
    const cutShort = framed.subarray(0, framed.length - cutBytes);
    for (const chunkSize of [4096, 7]) {
      if (chunkSize === 7 && cutBytes % 5 !== 0) continue;
      const input = chunkSize === 7 ? cutShort.subarray(cutShort.length - 400) : cutShort;
      await t.rejects(verify(input, chunkSize), { code: 'SNAP_ERR_TRUNCATED' }, `${cutBytes} bytes cut, chunks of ${chunkSize}`);
    }
  }
});

t.test('a stream cut in the data (trailer lost) is a TruncatedError', async (t) => {
  for (const keep of [1, 23, 24, 25, 100, 4096, 40_000]) {
    await t.rejects(verify(framed.subarray(0, keep)), { code: 'SNAP_ERR_TRUNCATED' }, `first ${keep} bytes only`);
  }
});

t.test('bytes after the trailer are refused', async (t) => {
  const extra = Buffer.concat([framed, Buffer.from('garbage after the end')]);
  await t.rejects(verify(extra), { code: /^SNAP_ERR_(TRUNCATED|CHECKSUM|FORMAT)$/ });
  const twice = Buffer.concat([framed, crcTrailer(crc32(data), data.length)]);
  await t.rejects(verify(twice), { code: /^SNAP_ERR_(TRUNCATED|CHECKSUM|FORMAT)$/ }, 'a second trailer');
});

t.test('the error fails the pipeline: the consumer does not finish normally', async (t) => {
  const bad = Buffer.from(framed);
  bad[10]! ^= 1;
  let finished = false;
  const sink = new Writable({
    write: (_c, _e, cb) => cb(),
    final(cb) {
      finished = true;
      cb();
    },
  });
  await t.rejects(pipeline(Readable.from([bad]), new CrcVerifier(), sink), { code: 'SNAP_ERR_CHECKSUM' });
  t.notOk(finished, 'the sink never saw a clean end');
});
