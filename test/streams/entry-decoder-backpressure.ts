/**
 * Backpressure inside one block: the EntryDecoder decodes a block of many records only as fast
 * as its entries are read, and yields to the event loop while a fast consumer takes them, so a
 * block of millions of tiny records neither fills memory nor blocks the loop.
 */
import t from 'tap';
import { EntryDecoder, EntryEncoder, type DecodedEntry } from '../../lib/index.js';
import { MAX_BATCH } from '../../lib/streams/entry-decoder.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** `n` empty records (9 zero bytes each): the most records a block of this size can hold. */
const emptyRecords = (n: number): Buffer => Buffer.alloc(n * 9);

t.test('a slow consumer: the decoder stops producing within one block', async (t) => {
  const total = 200_000;
  const decoder = new EntryDecoder({ blocks: true });
  const bound = decoder.readableHighWaterMark + 256; // a full readable side, plus one slice of records
  decoder.write({ data: emptyRecords(total), entries: total });
  t.ok(decoder.entries <= bound, `after the write: ${decoder.entries} decoded of ${total}, none read`);
  for (let i = 0; i < 5; i++) await turn();
  t.ok(decoder.entries <= bound, `the event loop turned: still ${decoder.entries} decoded, none read`);
  let consumed = 0;
  let worst = 0;
  while (consumed < total) {
    const e = decoder.read() as DecodedEntry | null;
    if (e === null) {
      await turn();
      continue;
    }
    consumed++;
    worst = Math.max(worst, decoder.entries - consumed);
    // Every so often the consumer stops for a while: the decoder must wait for it.
    if (consumed % 50_000 === 0) for (let i = 0; i < 3; i++) await turn();
  }
  t.ok(worst <= bound, `at most ${worst} entries decoded ahead of the consumer (bound ${bound})`);
  t.equal(decoder.entries, total, 'every entry decoded in the end');
  decoder.end();
  await new Promise((resolve) => decoder.on('end', resolve).resume());
});

t.test('batch mode: a block of many records comes out in bounded arrays, as they are read', async (t) => {
  const total = 100_000;
  const decoder = new EntryDecoder({ blocks: true, batch: true });
  decoder.write({ data: emptyRecords(total), entries: total });
  t.ok(decoder.entries <= (decoder.readableHighWaterMark + 1) * MAX_BATCH, `${decoder.entries} decoded before any read`);
  decoder.end();
  let entries = 0;
  let arrays = 0;
  let largest = 0;
  for await (const batch of decoder) {
    largest = Math.max(largest, (batch as DecodedEntry[]).length);
    entries += (batch as DecodedEntry[]).length;
    arrays++;
  }
  t.equal(entries, total);
  t.ok(largest <= MAX_BATCH, `arrays of at most ${largest} entries`);
  t.ok(arrays >= Math.ceil(total / MAX_BATCH), `${arrays} arrays`);
});

t.test('a flowing consumer: the event loop turns inside a block', async (t) => {
  // 2 M records take far longer than one slice (10 ms) to decode: the loop must get a turn before the end.
  const total = 2_000_000;
  const decoder = new EntryDecoder({ blocks: true });
  let received = 0;
  decoder.on('data', () => received++);
  let atFirstTurn = -1;
  setImmediate(() => (atFirstTurn = received));
  decoder.end({ data: emptyRecords(total), entries: total });
  await new Promise((resolve) => decoder.on('end', resolve));
  t.equal(received, total, 'every entry arrives');
  t.ok(atFirstTurn >= 0 && atFirstTurn < total, `the loop turned after ${atFirstTurn} of ${total} entries`);
});

t.test('byte mode: a chunk of many records is decoded as it is read, the entries unchanged', async (t) => {
  const entries = Array.from({ length: 30_000 }, (_, i) => ({ key: `k${i}`, value: i % 3 === 0 ? '' : `v${i}` }));
  const encoder = new EntryEncoder();
  const chunks: Buffer[] = [];
  encoder.on('data', (c: Buffer) => chunks.push(c));
  encoder.end(entries);
  await new Promise((resolve) => encoder.on('end', resolve));
  const decoder = new EntryDecoder();
  decoder.end(Buffer.concat(chunks));
  t.ok(decoder.entries <= decoder.readableHighWaterMark + 256, `${decoder.entries} decoded before any read`);
  const got: DecodedEntry[] = [];
  for await (const e of decoder) got.push(e as DecodedEntry);
  t.same(got, entries);
});
