/**
 * Backpressure through the Compressor and Decompressor: with a slow consumer, the producer is
 * kept paused, a few blocks ahead at most, never the whole input, even when compression is
 * faster than both (results are pushed asynchronously, when a worker job finishes, so Node's
 * Transform would not hold the writer back on its own).
 */
import t from 'tap';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Compressor, Decompressor, type CodecName } from '../../lib/index.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x4f73e1b9);

const BLOCK = 64 * 1024;
const BLOCKS = 40;
const noise = randomBytes(BLOCK * 4); // incompressible: each frame is about one block

/** A source of BLOCKS chunks of one block each, produced every `gapMs`; counts what it gave. */
function source(gapMs: number, chunk = BLOCK, data = noise): { stream: Readable; produced: () => number } {
  let produced = 0;
  const stream = new Readable({
    highWaterMark: 1,
    read() {
      setTimeout(() => {
        if (produced >= BLOCKS) return void this.push(null);
        const at = (produced % 4) * chunk;
        produced++;
        this.push(Buffer.from(data.subarray(at, at + chunk)));
      }, gapMs);
    },
  });
  return { stream, produced: () => produced };
}

/** A consumer taking `delayMs` per chunk; records how far ahead the producer was. */
function slowSink(delayMs: number, ahead: () => number): { stream: Writable; maxAhead: () => number; chunks: () => number } {
  let chunks = 0;
  let maxAhead = 0;
  const stream = new Writable({
    highWaterMark: 1,
    write(_c: Buffer, _e, cb) {
      chunks++;
      maxAhead = Math.max(maxAhead, ahead() - chunks);
      setTimeout(cb, delayMs);
    },
  });
  return { stream, maxAhead: () => maxAhead, chunks: () => chunks };
}

for (const codec of ['zstd', 'lz4', 'none'] as CodecName[]) {
  t.test(`Compressor (${codec}): a slow consumer keeps the producer a few blocks ahead`, async (t) => {
    // The producer is slower than compression and faster than the consumer: without
    // backpressure it would run through the whole input while the consumer is at the start.
    const src = source(2);
    const sink = slowSink(8, src.produced);
    await pipeline(src.stream, new Compressor({ codec, blockSize: BLOCK }), sink.stream);
    t.equal(sink.chunks(), BLOCKS, 'one frame per block arrived');
    t.ok(sink.maxAhead() <= 10, `producer at most 10 blocks ahead of the consumer (was ${sink.maxAhead()} of ${BLOCKS})`);
  });
}

t.test('Compressor: a consumer that stops reading stops the producer', async (t) => {
  const src = source(0);
  const compressor = new Compressor({ codec: 'lz4', blockSize: BLOCK });
  src.stream.pipe(compressor);
  // Nobody reads the compressor's output.
  await sleep(400);
  const stalled = src.produced();
  t.ok(stalled <= 12, `producer stopped after ${stalled} of ${BLOCKS} blocks`);
  await sleep(200);
  t.equal(src.produced(), stalled, 'and stays stopped');
  // Once read, everything flows to the end.
  let frames = 0;
  compressor.on('data', () => frames++);
  await new Promise((resolve) => compressor.on('end', resolve));
  t.equal(frames, BLOCKS);
  t.equal(src.produced(), BLOCKS);
});

t.test('Decompressor: a slow consumer keeps the producer a few frames ahead', async (t) => {
  // Compress BLOCKS frames of noise first, then feed them one frame per chunk.
  const frames: Buffer[] = [];
  await pipeline(
    Readable.from([Buffer.concat(Array.from({ length: BLOCKS }, (_, i) => noise.subarray((i % 4) * BLOCK, ((i % 4) + 1) * BLOCK)))]),
    new Compressor({ codec: 'zstd', blockSize: BLOCK }),
    new Writable({
      write(c: Buffer, _e, cb) {
        frames.push(c);
        cb();
      },
    }),
  );
  t.equal(frames.length, BLOCKS);
  let produced = 0;
  const src = new Readable({
    highWaterMark: 1,
    read() {
      setTimeout(() => this.push(produced < frames.length ? frames[produced++]! : null), 2);
    },
  });
  const sink = slowSink(8, () => produced);
  await pipeline(src, new Decompressor(), sink.stream);
  t.equal(sink.chunks(), BLOCKS, 'one block per frame');
  t.ok(sink.maxAhead() <= 10, `producer at most 10 frames ahead of the consumer (was ${sink.maxAhead()} of ${BLOCKS})`);
});

/** Rejects if `p` takes longer than `ms`: a stall fails the test instead of hanging it. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: stalled for ${ms} ms`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

for (const codec of ['zstd', 'lz4', 'none'] as CodecName[]) {
  t.test(`Compressor (${codec}): writes smaller than a block while the readable side is full never stall`, async (t) => {
    // Many small writes queue up on the writable side; the consumer is slow; the readable
    // side is over its mark when Node asks for more (`_read` comes before it takes the data).
    let produced = 0;
    const src = new Readable({
      read() {
        if (produced >= BLOCKS * 4) return void this.push(null);
        const at = (produced % 16) * (BLOCK / 4);
        produced++;
        this.push(Buffer.from(noise.subarray(at, at + BLOCK / 4)));
      },
    });
    const sink = slowSink(5, () => produced / 4);
    await within(
      pipeline(src, new Compressor({ codec, blockSize: BLOCK, highWaterMark: BLOCK }), sink.stream),
      15_000,
      'compressor pipeline',
    );
    t.equal(sink.chunks(), BLOCKS, 'every frame arrived');
    t.ok(sink.maxAhead() <= 12, `producer at most 12 blocks ahead (was ${sink.maxAhead()})`);
  });
}

t.test('Decompressor: one input chunk holding many frames, slow consumer: bounded and never stalls', async (t) => {
  // Highly compressible blocks: 60 MiB of output from a few KiB of input in one chunk.
  const zeros = Buffer.alloc(1024 * 1024);
  const frames: Buffer[] = [];
  await pipeline(
    Readable.from((function* () {
      for (let i = 0; i < 60; i++) yield zeros;
    })()),
    new Compressor({ codec: 'zstd', blockSize: 1024 * 1024 }),
    new Writable({
      write(c: Buffer, _e, cb) {
        frames.push(c);
        cb();
      },
    }),
  );
  const input = Buffer.concat(frames);
  t.ok(input.length < 64 * 1024, `60 MiB compressed to ${input.length} bytes`);
  const decompressor = new Decompressor();
  let received = 0;
  let maxBuffered = 0;
  const sink = new Writable({
    highWaterMark: 1,
    write(c: Buffer, _e, cb) {
      received += c.length;
      maxBuffered = Math.max(maxBuffered, decompressor.readableLength);
      setTimeout(cb, 3);
    },
  });
  await within(pipeline(Readable.from([input]), decompressor, sink), 20_000, 'decompressor pipeline');
  t.equal(received, 60 * 1024 * 1024, 'all 60 MiB out');
  t.ok(maxBuffered <= 16 * 1024 * 1024, `readable side held at most 16 MiB (max ${maxBuffered})`);
});
