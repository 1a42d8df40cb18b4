/**
 * Errors keep their SNAP_ERR_* code and class through `stream/promises` pipeline(), whichever
 * stage raises them and however many stages sit around it; the first error wins and every
 * stage is destroyed.
 */
import t from 'tap';
import { once } from 'node:events';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  ChecksumError,
  Compressor,
  CrcFooter,
  CrcVerifier,
  crc32,
  crcTrailer,
  Decompressor,
  EntryDecoder,
  EntryEncoder,
  InvalidEntryError,
  SnapstreamError,
  TruncatedError,
  type Entry,
} from '../../lib/index.js';
import { pipeBytes as bytes } from '../fixtures/pipe-through.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x240eb06c);

function sink(): Writable {
  return new Writable({ objectMode: true, write: (_c, _e, cb) => cb() });
}

async function failure(run: Promise<unknown>): Promise<unknown> {
  return run.then(
    () => null,
    (e: unknown) => e,
  );
}

const data = Buffer.concat([Buffer.from('abc'.repeat(50_000)), randomBytes(100_000)]);

t.test('InvalidEntryError from the encoder, through a long chain', async (t) => {
  const entries = [{ key: 'a', value: 'b' }, { key: 'c', value: 7 }] as unknown as Entry[];
  const err = await failure(
    pipeline(Readable.from(entries), new EntryEncoder(), new Compressor(), new CrcFooter(), new PassThrough(), sink()),
  );
  t.ok(err instanceof InvalidEntryError && err instanceof SnapstreamError);
  t.match(err, { code: 'SNAP_ERR_INVALID_ENTRY', seq: 1 });
});

t.test('ChecksumError from the verifier, with the CRC values', async (t) => {
  const framed = await bytes([data], new Compressor({ blockSize: 64 * 1024 }), new CrcFooter());
  const bad = Buffer.from(framed);
  bad[100]! ^= 0xff;
  const decompressor = new Decompressor();
  const err = await failure(pipeline(Readable.from([bad]), new CrcVerifier(), decompressor, sink()));
  // The flipped byte may be caught first by the codec (the frame no longer decodes) or by the CRC.
  t.ok(err instanceof SnapstreamError, 'a SnapstreamError');
  t.match(err, { code: /^SNAP_ERR_(CHECKSUM|CODEC|FORMAT)$/ });
  t.ok(decompressor.destroyed, 'downstream stage destroyed');

  // A flip in the trailer's CRC field leaves the data decodable: the checksum error is what remains.
  const badCrc = Buffer.from(framed);
  badCrc[framed.length - 24 + 12]! ^= 0x01;
  const err2 = await failure(pipeline(Readable.from([badCrc]), new CrcVerifier(), new Decompressor(), sink()));
  t.ok(err2 instanceof ChecksumError);
  t.match(err2, { code: 'SNAP_ERR_CHECKSUM', expected: (crc32(framed.subarray(0, framed.length - 24)) ^ 1) >>> 0 });
});

t.test('TruncatedError from the verifier and from the decompressor', async (t) => {
  const framed = await bytes([data], new Compressor({ blockSize: 64 * 1024 }), new CrcFooter());
  const cut = framed.subarray(0, framed.length - 30);
  const err = await failure(pipeline(Readable.from([cut]), new CrcVerifier(), sink()));
  t.ok(err instanceof TruncatedError);
  t.match(err, { code: 'SNAP_ERR_TRUNCATED' });
  const compressed = await bytes([data], new Compressor({ blockSize: 64 * 1024 }));
  for (const keep of [3, 10, compressed.length - 1, Math.floor(compressed.length / 2)]) {
    const err2 = await failure(pipeline(Readable.from([compressed.subarray(0, keep)]), new Decompressor(), sink()));
    t.match(err2, { code: 'SNAP_ERR_TRUNCATED' }, `compressed stream cut at ${keep}`);
  }
});

t.test('FormatError / CodecError from the decompressor on garbage', async (t) => {
  const err = await failure(pipeline(Readable.from([Buffer.from('this is not a compressed stream at all')]), new Decompressor(), sink()));
  t.ok(err instanceof SnapstreamError);
  t.match(err, { code: /^SNAP_ERR_(FORMAT|CODEC)$/ });
  // A valid zstd header followed by corrupted content: the native codec's error, wrapped, with its cause.
  const frames = await bytes([Buffer.from('hello world '.repeat(1000))], new Compressor({ codec: 'zstd' }));
  const bad = Buffer.from(frames);
  for (let i = 12; i < bad.length - 4; i++) bad[i] = 0xff;
  const err2 = await failure(pipeline(Readable.from([bad]), new Decompressor(), sink()));
  t.ok(err2 instanceof SnapstreamError, 'a SnapstreamError');
  t.match(err2, { code: /^SNAP_ERR_(FORMAT|CODEC)$/ });
  if ((err2 as SnapstreamError).code === 'SNAP_ERR_CODEC') t.ok((err2 as Error).cause, 'the native error is the cause');
});

t.test('TruncatedError from the entry decoder, after a Decompressor', async (t) => {
  const entryBytes: Buffer[] = [];
  await pipeline(
    Readable.from([{ key: 'k', value: 'v'.repeat(100) }] as Entry[]),
    new EntryEncoder(),
    new Writable({
      write(c: Buffer, _e, cb) {
        entryBytes.push(c);
        cb();
      },
    }),
  );
  const cutRecord = Buffer.concat(entryBytes).subarray(0, 50);
  const compressed = await bytes([cutRecord], new Compressor());
  const err = await failure(pipeline(Readable.from([compressed]), new Decompressor(), new EntryDecoder(), sink()));
  t.match(err, { code: 'SNAP_ERR_TRUNCATED', name: 'TruncatedError' });
});

t.test('LimitError: a record claiming 4 GiB is refused, not allocated', async (t) => {
  const header = Buffer.alloc(9);
  header[0] = 0;
  header.writeUInt32LE(0xffffffff, 1);
  header.writeUInt32LE(0, 5);
  const err = await failure(pipeline(Readable.from([header]), new EntryDecoder(), sink()));
  t.match(err, { code: 'SNAP_ERR_LIMIT', actual: 0xffffffff });
});

t.test('the first error wins: a later stage failing does not replace it', async (t) => {
  // A compressed stream of one record cut short, under a trailer whose CRC is wrong. The
  // CrcVerifier fails at its end (SNAP_ERR_CHECKSUM) while the EntryDecoder below it holds the
  // first half of the record: had the decoder been ended, or did it complain when destroyed,
  // it would fail with SNAP_ERR_TRUNCATED. The pipeline must reject with the verifier's error.
  const record: Buffer[] = [];
  await pipeline(Readable.from([{ key: 'k', value: 'v'.repeat(100) }] as Entry[]), new EntryEncoder(), new Writable({
    write(c: Buffer, _e, cb) {
      record.push(c);
      cb();
    },
  }));
  const compressed = await bytes([Buffer.concat(record).subarray(0, 50)], new Compressor());
  const verifier = new CrcVerifier();
  const decoder = new EntryDecoder();
  const reachedDecoder = new PassThrough();
  const halfRecordArrived = once(reachedDecoder, 'data');
  let firstError: unknown = null;
  verifier.once('error', (e) => (firstError ??= e));
  decoder.once('error', (e) => (firstError ??= e));
  const err = await failure(
    pipeline(
      (async function* () {
        yield compressed;
        yield crcTrailer((crc32(compressed) ^ 1) >>> 0, compressed.length);
        // The end of the input (and so the verifier's failure) only once the half record is in the decoder.
        await halfRecordArrived;
      })(),
      verifier,
      new Decompressor(),
      reachedDecoder,
      decoder,
      sink(),
    ),
  );
  t.ok(firstError, 'the verifier failed');
  t.equal(err, firstError, 'the pipeline rejects with that very error object');
  t.ok(err instanceof ChecksumError, 'a ChecksumError');
  t.match(err, { code: 'SNAP_ERR_CHECKSUM', expected: (crc32(compressed) ^ 1) >>> 0, actual: crc32(compressed) });
  t.equal(decoder.writableEnded, false, 'the decoder was never ended (it would have failed SNAP_ERR_TRUNCATED)');
  t.ok(decoder.destroyed, 'the decoder was destroyed');
});

t.test('errors from the sink and the source pass through untouched', async (t) => {
  const boom = Object.assign(new Error('sink failed'), { code: 'EBOOM' });
  const err = await failure(
    pipeline(
      Readable.from([data]),
      new Compressor(),
      new Writable({
        write: (_c, _e, cb) => cb(boom),
      }),
    ),
  );
  t.equal(err, boom, 'the very same error object');
  const srcErr = new Error('source failed');
  const err2 = await failure(
    pipeline(
      new Readable({
        read() {
          this.destroy(srcErr);
        },
      }),
      new Compressor(),
      new CrcFooter(),
      sink(),
    ),
  );
  t.equal(err2, srcErr);
});
