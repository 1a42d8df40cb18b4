/**
 * `signal` aborts a stage cleanly: the pipeline rejects with Node's own AbortError (code
 * ABORT_ERR, untouched), the stage is destroyed, and nothing more comes out of it.
 */
import t, { type Test } from 'tap';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  Compressor,
  CrcFooter,
  CrcVerifier,
  crcTrailer,
  Decompressor,
  EntryDecoder,
  EntryEncoder,
  SnapstreamError,
  type CodecName,
  type Entry,
} from '../../lib/index.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0xe405cfc9);

/** An endless source of 64 KiB chunks; reports how many it made. */
function endless(): { stream: Readable; made: () => number } {
  let made = 0;
  const chunk = randomBytes(64 * 1024);
  const stream = new Readable({
    read() {
      made++;
      setImmediate(() => this.push(chunk));
    },
  });
  return { stream, made: () => made };
}

function counter(): { stream: Writable; count: () => number } {
  let n = 0;
  const stream = new Writable({
    objectMode: true,
    write(_c, _e, cb) {
      n++;
      cb();
    },
  });
  return { stream, count: () => n };
}

function checkAbortError(t: Test, err: unknown): void {
  t.ok(err instanceof Error, 'an Error');
  t.match(err, { name: 'AbortError', code: 'ABORT_ERR' }, "Node's AbortError");
  t.notOk(err instanceof SnapstreamError, 'passed through untouched, not wrapped');
}

for (const codec of ['zstd', 'lz4', 'none'] as CodecName[]) {
  t.test(`Compressor (${codec}) with signal, aborted mid-stream`, async (t) => {
    const ac = new AbortController();
    const src = endless();
    const out = counter();
    const compressor = new Compressor({ codec, blockSize: 64 * 1024, signal: ac.signal });
    compressor.once('progress', () => setTimeout(() => ac.abort(), 20));
    const err = await pipeline(src.stream, compressor, out.stream).then(() => null, (e: unknown) => e);
    checkAbortError(t, err);
    t.ok(compressor.destroyed, 'the compressor is destroyed');
    t.ok(out.count() > 0, 'some frames came out before the abort');
    const frames = out.count();
    const made = src.made();
    await new Promise((r) => setTimeout(r, 100));
    t.equal(out.count(), frames, 'no frames after the abort');
    t.ok(src.made() <= made + 1, 'the source is not read after the abort');
  });
}

t.test('pipeline signal option aborts a Compressor → Decompressor chain', async (t) => {
  const ac = new AbortController();
  const src = endless();
  const out = counter();
  setTimeout(() => ac.abort(), 150);
  const compressor = new Compressor({ blockSize: 64 * 1024 });
  const decompressor = new Decompressor();
  const err = await pipeline(src.stream, compressor, decompressor, out.stream, { signal: ac.signal }).then(
    () => null,
    (e: unknown) => e,
  );
  checkAbortError(t, err);
  t.ok(compressor.destroyed && decompressor.destroyed, 'every stage destroyed');
  t.ok(out.count() > 0, 'data flowed before the abort');
});

t.test('an already aborted signal fails at once (no TypeError from the constructor)', async (t) => {
  for (const make of [
    (signal: AbortSignal) => new Compressor({ signal }),
    (signal: AbortSignal) => new Decompressor({ signal }),
    (signal: AbortSignal) => new Compressor({ signal, blocks: true }),
  ]) {
    const signal = AbortSignal.abort();
    const out = counter();
    const stage = make(signal);
    // Destroyed a tick later, once the pipeline built with it listens: Node 24's pipeline()
    // refuses a stream already destroyed, and its AbortError would go uncaught.
    const err = await pipeline(Readable.from([Buffer.alloc(10)]), stage, out.stream).then(
      () => null,
      (e: unknown) => e,
    );
    t.ok(stage.destroyed, 'destroyed');
    checkAbortError(t, err);
    t.equal(out.count(), 0, 'nothing came out');
  }
});

t.test('every stage takes signal', async (t) => {
  const entries: Entry[] = Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
  const makers: [string, (signal: AbortSignal) => NodeJS.ReadWriteStream, unknown[]][] = [
    ['EntryEncoder', (signal) => new EntryEncoder({ signal }), entries],
    ['EntryDecoder', (signal) => new EntryDecoder({ signal }), [Buffer.alloc(9)]],
    ['Compressor', (signal) => new Compressor({ signal }), [Buffer.alloc(9)]],
    ['Decompressor', (signal) => new Decompressor({ signal }), [crcTrailer(0, 0)]], // a skippable frame
    ['CrcFooter', (signal) => new CrcFooter({ signal }), [Buffer.alloc(9)]],
    ['CrcVerifier', (signal) => new CrcVerifier({ signal }), [Buffer.alloc(9)]],
  ];
  for (const [name, make, input] of makers) {
    const ac = new AbortController();
    const stage = make(ac.signal);
    // A source that never ends, so only the abort can finish the pipeline.
    const src = new Readable({
      objectMode: true,
      read() {
        setImmediate(() => {
          for (const item of input) this.push(item);
        });
      },
    });
    const done = pipeline(src, stage, counter().stream).then(() => null, (e: unknown) => e);
    setTimeout(() => ac.abort(), 30);
    const err = await done;
    t.match(err, { name: 'AbortError', code: 'ABORT_ERR' }, `${name}: AbortError`);
    t.ok((stage as unknown as { destroyed: boolean }).destroyed, `${name}: destroyed`);
  }
});
