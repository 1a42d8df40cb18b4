/**
 * Readers hold a bounded number of bytes of blocks, whatever the block size: a file of 64 MiB
 * blocks is read one block at a time (the stages count blocks, two in the workers and two queued
 * after them, which for such blocks was four times 64 MiB). Counted at the stages, not by RSS:
 * the bytes of the blocks that entered the Decompressor and were not yet used up (decoded by the
 * EntryDecoder, or handed to verifySnapshot's sink).
 */
import t from 'tap';
import path from 'node:path';
import type { TransformCallback } from 'node:stream';
import { readSnapshot, verifySnapshot, writeSnapshot, type Entry } from '../../lib/index.js';
import { Decompressor, type FrameInput } from '../../lib/streams/decompressor.js';
import { EntryDecoder } from '../../lib/streams/entry-decoder.js';

const MiB = 1024 * 1024;
const BLOCK = 64 * MiB;
const PER_BLOCK = 63; // records of 1 MiB and a few bytes
const BLOCKS = 4;
const value = Buffer.alloc(MiB);

function* source(): Generator<Entry> {
  for (let i = 0; i < PER_BLOCK * BLOCKS; i++) yield { key: `k${i}`, value };
}

/**
 * Runs `fn` while counting the bytes (frame + raw) of blocks between entering the Decompressor
 * and leaving the pipeline (`leaveOn`: the EntryDecoder's progress after a block, or the
 * Decompressor's push); resolves with the most at once.
 */
async function peakInFlight(leaveOn: 'decoder' | 'decompressor', fn: () => Promise<void>): Promise<number> {
  const transform = Decompressor.prototype._transform;
  const push = Decompressor.prototype.push;
  const emit = EntryDecoder.prototype.emit;
  const weights: number[] = [];
  let inFlight = 0;
  let peak = 0;
  const leave = (): void => void (inFlight -= weights.shift() ?? 0);
  Decompressor.prototype._transform = function (this: Decompressor, chunk: FrameInput, enc: BufferEncoding, cb: TransformCallback) {
    const weight = chunk.frame.length + chunk.rawLength;
    weights.push(weight);
    inFlight += weight;
    peak = Math.max(peak, inFlight);
    return transform.call(this, chunk, enc, cb);
  };
  if (leaveOn === 'decompressor') {
    Decompressor.prototype.push = function (this: Decompressor, chunk: unknown, encoding?: BufferEncoding) {
      if (chunk) leave();
      return push.call(this, chunk, encoding);
    };
  } else {
    EntryDecoder.prototype.emit = function (this: EntryDecoder, event: string | symbol, ...args: unknown[]) {
      if (event === 'progress') leave();
      return emit.call(this, event, ...args);
    };
  }
  try {
    await fn();
  } finally {
    Decompressor.prototype._transform = transform;
    Decompressor.prototype.push = push;
    EntryDecoder.prototype.emit = emit;
  }
  return peak;
}

const file = path.join(t.testdir(), 'large-blocks.snap');

t.before(async () => {
  // Blocks of exactly BLOCK bytes: fixed boundaries.
  const summary = await writeSnapshot(source(), file, { blockSize: BLOCK, boundaries: 'fixed' });
  t.equal(summary.blocks, BLOCKS);
});

t.test('readSnapshot of 64 MiB blocks holds one block at a time, for a slow consumer too', async (t) => {
  let stream: ReturnType<typeof readSnapshot> | null = null;
  let entries = 0;
  const peak = await peakInFlight('decoder', async () => {
    stream = readSnapshot(file);
    for await (const _ of stream) {
      entries++;
      await new Promise(setImmediate);
    }
  });
  t.equal(entries, PER_BLOCK * BLOCKS);
  t.ok(peak <= BLOCK + MiB, `peak in flight ${(peak / MiB).toFixed(1)} MiB`);
  t.ok(peak >= BLOCK - 2 * MiB, 'one block passes, however large');
  const reported = stream!.peakBytesInFlight;
  t.ok(reported >= peak && reported <= BLOCK + MiB, `readSnapshot reports ${(reported / MiB).toFixed(1)} MiB`);
});

t.test('batch mode too', async (t) => {
  let entries = 0;
  const peak = await peakInFlight('decoder', async () => {
    for await (const batch of readSnapshot(file, { batch: true })) entries += (batch as unknown[]).length;
  });
  t.equal(entries, PER_BLOCK * BLOCKS);
  t.ok(peak <= BLOCK + MiB, `peak in flight ${(peak / MiB).toFixed(1)} MiB`);
});

t.test('verifySnapshot of 64 MiB blocks holds one block at a time', async (t) => {
  let reported = 0;
  const peak = await peakInFlight('decompressor', async () => {
    reported = (await verifySnapshot(file)).peakBytesInFlight;
  });
  t.ok(peak <= BLOCK + MiB, `peak in flight ${(peak / MiB).toFixed(1)} MiB`);
  t.ok(reported >= peak && reported <= BLOCK + MiB, `verifySnapshot reports ${(reported / MiB).toFixed(1)} MiB`);
});

t.test('maxBytesInFlight sets the budget; small blocks pass several at once', async (t) => {
  const small = path.join(path.dirname(file), 'small-blocks.snap');
  await writeSnapshot(source(), small, { blockSize: 8 * MiB, boundaries: 'fixed' });
  let entries = 0;
  const peak = await peakInFlight('decoder', async () => {
    for await (const _ of readSnapshot(small, { maxBytesInFlight: 20 * MiB })) entries++;
  });
  t.equal(entries, PER_BLOCK * BLOCKS);
  t.ok(peak <= 20 * MiB, `peak in flight ${(peak / MiB).toFixed(1)} MiB`);
  t.ok(peak > 8 * MiB, 'more than one block at once when they fit');
});
