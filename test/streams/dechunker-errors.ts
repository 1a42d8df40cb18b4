/**
 * The Dechunker fails with a typed error on every kind of damage: a flipped data byte is a
 * ChecksumError naming the chunk's seq and offset; a flipped header byte is an error before the
 * (untrustworthy) length is used; a reordered or missing chunk, including a missing first chunk,
 * is a FormatError; a stream without its end frame is a TruncatedError; a wrong whole-stream CRC
 * in the end frame is a ChecksumError. A stream that really does continue an earlier one is
 * accepted only when told where it starts (`start`).
 */
import t from 'tap';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Chunker } from '../../lib/streams/chunker.js';
import { Dechunker, type DechunkerOptions } from '../../lib/streams/dechunker.js';
import { CHUNK_END, CHUNK_HEADER_SIZE, encodeChunkHeader } from '../../lib/format/chunk-frame.js';
import { crc32 } from '../../lib/format/crc32.js';
import { randomBytesSeeded, testSeed } from '../fixtures/random.js';

const MiB = 1024 * 1024;
const CHUNK = 4 * MiB;
const data = randomBytesSeeded(3 * CHUNK + 777, testSeed(t, 0xdec4));

/** The frames of `data`: [header, payload] per data chunk, then the end header. */
async function frames(): Promise<{ chunks: [Buffer, Buffer][]; end: Buffer }> {
  const parts: Buffer[] = [];
  for await (const b of Readable.from([data]).pipe(new Chunker({ chunkSize: CHUNK }))) parts.push(b as Buffer);
  const all = Buffer.concat(parts);
  // Cut the byte stream at the frame boundaries the headers give (length at byte 20).
  const chunks: [Buffer, Buffer][] = [];
  let at = 0;
  for (;;) {
    const length = all.readUInt32LE(at + 20);
    const header = Buffer.from(all.subarray(at, at + CHUNK_HEADER_SIZE));
    if (length === 0) return { chunks, end: header };
    chunks.push([header, Buffer.from(all.subarray(at + CHUNK_HEADER_SIZE, at + CHUNK_HEADER_SIZE + length))]);
    at += CHUNK_HEADER_SIZE + length;
  }
}

async function dechunk(input: Buffer[], options?: DechunkerOptions): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(input),
    new Dechunker(options),
    new Writable({
      write(c: Buffer, _e, cb) {
        out.push(c);
        cb();
      },
    }),
  );
  return Buffer.concat(out);
}

const { chunks, end } = await frames();
const whole = (cs: [Buffer, Buffer][], e: Buffer | null = end): Buffer[] => [...cs.flat(), ...(e ? [e] : [])];

t.test('the intact frames decode', async (t) => {
  t.equal(chunks.length, 4);
  t.ok((await dechunk(whole(chunks))).equals(data));
});

t.test('a flipped data byte is a ChecksumError with the chunk seq and offset', async (t) => {
  for (const [seq, at] of [[0, 0], [1, 12345], [2, CHUNK - 1], [3, 776]] as const) {
    const bad = chunks.map(([h, d]) => [h, Buffer.from(d)] as [Buffer, Buffer]);
    bad[seq]![1][at]! ^= 0x20;
    await t.rejects(dechunk(whole(bad)), { code: 'SNAP_ERR_CHECKSUM', seq, offset: seq * CHUNK }, `chunk ${seq} byte ${at}`);
  }
});

t.test('a flipped header byte is an error, whichever byte', async (t) => {
  for (const seq of [0, 2]) {
    for (let at = 0; at < CHUNK_HEADER_SIZE; at++) {
      const bad = chunks.map(([h, d]) => [Buffer.from(h), d] as [Buffer, Buffer]);
      bad[seq]![0][at]! ^= 0x01;
      // The magic is checked first (a FormatError); every other byte is covered by the header CRC.
      const code = at < 4 ? 'SNAP_ERR_FORMAT' : 'SNAP_ERR_CHECKSUM';
      await t.rejects(dechunk(whole(bad)), { code }, `chunk ${seq} header byte ${at}`);
    }
  }
  const badEnd = Buffer.from(end);
  badEnd[13]! ^= 0x04; // the end frame's length
  await t.rejects(dechunk(whole(chunks, badEnd)), { code: 'SNAP_ERR_CHECKSUM' }, 'end frame header byte 13');
});

t.test('reordered and missing chunks are FormatErrors', async (t) => {
  const [c0, c1, c2, c3] = chunks as [[Buffer, Buffer], [Buffer, Buffer], [Buffer, Buffer], [Buffer, Buffer]];
  await t.rejects(dechunk(whole([c0, c2, c1, c3])), { code: 'SNAP_ERR_FORMAT', seq: 2 }, 'chunks 1 and 2 swapped');
  await t.rejects(dechunk(whole([c0, c1, c3])), { code: 'SNAP_ERR_FORMAT', seq: 3, expected: 2 * CHUNK, actual: 3 * CHUNK }, 'chunk 2 missing');
  await t.rejects(dechunk(whole([c1, c2, c3])), { code: 'SNAP_ERR_FORMAT', seq: 1 }, 'chunk 0 missing');
  await t.rejects(dechunk(whole([c0, c1, c2])), { code: 'SNAP_ERR_FORMAT' }, 'the last chunk missing');
  await t.rejects(dechunk(whole([c0, c1, c1, c2, c3])), { code: 'SNAP_ERR_FORMAT', seq: 1 }, 'chunk 1 repeated');
  await t.rejects(dechunk([end]), { code: 'SNAP_ERR_FORMAT' }, 'an end frame alone, claiming bytes that never came');
});

t.test('a missing end frame or a cut frame is a TruncatedError', async (t) => {
  await t.rejects(dechunk(whole(chunks, null)), { code: 'SNAP_ERR_TRUNCATED', offset: data.length + 4 * CHUNK_HEADER_SIZE }, 'no end frame');
  const all = Buffer.concat(whole(chunks));
  for (const cut of [1, CHUNK_HEADER_SIZE - 1, CHUNK_HEADER_SIZE + 10, CHUNK + 40, all.length - 1]) {
    await t.rejects(dechunk([all.subarray(0, cut)]), { code: 'SNAP_ERR_TRUNCATED' }, `cut at byte ${cut}`);
  }
  await t.rejects(dechunk([]), { code: 'SNAP_ERR_TRUNCATED' }, 'no bytes at all');
});

t.test('an end frame with a wrong length or whole-stream CRC is an error', async (t) => {
  const seq = chunks.length;
  const crc = crc32(data);
  const badCrc = encodeChunkHeader({ type: CHUNK_END, seq, offset: data.length, length: 0, crc32: (crc ^ 1) >>> 0 });
  await t.rejects(dechunk(whole(chunks, badCrc)), { code: 'SNAP_ERR_CHECKSUM', expected: (crc ^ 1) >>> 0, actual: crc });
  const longer = encodeChunkHeader({ type: CHUNK_END, seq, offset: data.length + 1, length: 0, crc32: crc });
  await t.rejects(dechunk(whole(chunks, longer)), { code: 'SNAP_ERR_TRUNCATED', expected: data.length + 1, actual: data.length });
  // Fewer bytes than arrived: the stream is not cut short, its end frame is wrong (docs/FORMAT.md 9).
  const shorter = encodeChunkHeader({ type: CHUNK_END, seq, offset: data.length - 1, length: 0, crc32: crc });
  await t.rejects(dechunk(whole(chunks, shorter)), { code: 'SNAP_ERR_FORMAT', expected: data.length - 1, actual: data.length });
  // An end frame carries no data: a length there (under an intact header CRC) is a malformed frame, not a limit.
  const withData = encodeChunkHeader({ type: CHUNK_END, seq, offset: data.length, length: 8, crc32: crc });
  await t.rejects(dechunk([...whole(chunks, withData), Buffer.alloc(8)]), { code: 'SNAP_ERR_FORMAT', actual: 8 });
  await t.rejects(dechunk([...whole(chunks), Buffer.from('x')]), { code: 'SNAP_ERR_FORMAT' }, 'bytes after the end frame');
});

t.test('a continued stream is accepted only with its start', async (t) => {
  const prefix = 2 * CHUNK;
  const rest = whole(chunks.slice(2));
  const start = { offset: prefix, seq: 2, crc: crc32(data.subarray(0, prefix)) };
  t.ok((await dechunk(rest, { start })).equals(data.subarray(prefix)), 'the rest of the stream decodes');
  await t.rejects(dechunk(rest), { code: 'SNAP_ERR_FORMAT' }, 'without start: chunks missing at the front');
  await t.rejects(dechunk(rest, { start: { ...start, crc: (start.crc ^ 1) >>> 0 } }), { code: 'SNAP_ERR_CHECKSUM' }, 'a wrong start CRC fails at the end');
  t.throws(() => new Dechunker({ start: { offset: -1, seq: 0, crc: 0 } }), { code: 'SNAP_ERR_INVALID_ARGUMENT' });
});

t.test('a chunk longer than maxChunkSize is a LimitError before its data is buffered', async (t) => {
  await t.rejects(dechunk(whole(chunks), { maxChunkSize: CHUNK - 1 }), { code: 'SNAP_ERR_LIMIT', seq: undefined, offset: 0 });
});
