/**
 * EntrySource encodes on the main thread, beside the application: a large synchronous source
 * is read in slices, with turns of the event loop between them, so the application's
 * immediates (and I/O, timers) run while it is encoded — before, a consumer that kept up let it
 * encode the whole source in one run of microtasks.
 */
import t from 'tap';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EntrySource, type Entry, type RawBlock } from '../../lib/index.js';

function* entries(n: number): Generator<Entry> {
  for (let i = 0; i < n; i++) yield { key: `key:${i}`, value: `value ${i}` };
}

/** Runs the source into a consumer that takes every block at once; counts the application's turns meanwhile. */
async function encode(source: EntrySource): Promise<{ turns: number; entries: number }> {
  let turns = 0;
  let running = true;
  const tick = (): void => {
    if (!running) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  let count = 0;
  const sink = new Writable({
    objectMode: true,
    write(block: RawBlock, _enc, cb) {
      count += block.entries;
      cb();
    },
  });
  await pipeline(source, sink);
  running = false;
  return { turns, entries: count };
}

t.test('the application gets turns of the event loop while a source is encoded', async (t) => {
  const source = new EntrySource(entries(20_000), { blockSize: 64 * 1024, pace: { sliceMs: 0 } });
  const r = await encode(source);
  t.equal(r.entries, 20_000, 'every entry encoded');
  t.ok(source.yields > 0, `the source yielded ${source.yields} times`);
  t.ok(r.turns >= source.yields / 2, `the application ran ${r.turns} turns meanwhile`);
});

t.test('slice Infinity: the consumer alone paces the source', async (t) => {
  const source = new EntrySource(entries(20_000), { blockSize: 64 * 1024, pace: { sliceMs: Infinity } });
  const r = await encode(source);
  t.equal(r.entries, 20_000, 'every entry encoded');
  t.equal(source.yields, 0, 'never yielded');
});

t.test('batches count towards a slice, and a source destroyed while it yields stops', async (t) => {
  function* batches(): Generator<Entry[]> {
    for (let b = 0; b < 100; b++) yield Array.from({ length: 100 }, (_, i) => ({ key: `k${b}:${i}`, value: 'v' }));
  }
  const source = new EntrySource(batches(), { blockSize: 64 * 1024, pace: { sliceMs: 0 } });
  let blocks = 0;
  const sink = new Writable({
    objectMode: true,
    write(_block: RawBlock, _enc, cb) {
      if (++blocks === 1) source.destroy(new Error('stop'));
      cb();
    },
  });
  await t.rejects(pipeline(source, sink), { message: 'stop' });
  t.ok(source.yields >= 0 && source.entries < 10_000, `stopped after ${source.entries} entries`);
});

t.test('the source says when the application keeps the event loop busy', async (t) => {
  // An application whose every turn takes 2 ms: it always has an immediate queued, which runs
  // before the source's own (immediates run in order), so each turn the source yields holds one.
  let running = true;
  const app = (): void => {
    if (!running) return;
    const end = performance.now() + 2;
    while (performance.now() < end);
    setImmediate(app);
  };
  setImmediate(app);
  const seen: boolean[] = [];
  const source = new EntrySource(entries(5_000), { blockSize: 64 * 1024, pace: { sliceMs: 0, share: 1 }, onBusy: (busy) => seen.push(busy) });
  let count = 0;
  await pipeline(
    source,
    new Writable({
      objectMode: true,
      write(block: RawBlock, _enc, cb) {
        count += block.entries;
        cb();
      },
    }),
  );
  running = false;
  t.equal(count, 5_000);
  t.ok(source.yields > 0);
  t.same(seen, [true], 'busy from its first turn on, and never idle');
});
