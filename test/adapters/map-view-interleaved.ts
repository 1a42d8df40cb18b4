/**
 * mapSource reads its values along a walk of the live map (keys not written since the view are
 * where it has them) and files the values writes replace lazily (a write logs them, the reader
 * files them before its next read). Both must give exactly the view whatever the writes between
 * two reads do: overwrite a key read or not yet read, delete it, delete and re-insert it (it
 * moves to the end, where the walk meets it again), insert new keys, write one key many times,
 * hundreds of thousands of writes with no read between (the writer files its own log), and
 * start from a cursor. Seeded: every step is checked against a copy taken with the view.
 */
import t, { type Test } from 'tap';
import { mapSource, type Entry, type SnapshotMap } from '../../lib/index.js';
import { mulberry32, testSeed } from '../fixtures/random.js';

function storm(t: Test, options: { n: number; writesPerRead: () => number; cursor?: number; seed: number }): void {
  const rand = mulberry32(options.seed);
  const m: SnapshotMap = new Map();
  for (let i = 0; i < options.n; i++) m.set(`k${i}`, `v${i}`);
  let next = options.n;
  const reference = [...m];
  const source = mapSource(m);
  const it = (source.entries(options.cursor) as Iterable<Entry>)[Symbol.iterator]();
  let i = options.cursor ?? 0;
  let bad = 0;
  for (let step = it.next(); !step.done; step = it.next(), i++) {
    const [k, v] = reference[i]!;
    if (step.value.key !== k || step.value.value !== v) {
      if (bad++ === 0) t.fail(`entry ${i}: ${String(step.value.key)}=${String(step.value.value)}, want ${k}=${v}`);
    }
    for (let w = options.writesPerRead(); w > 0; w--) {
      const r = rand();
      const key = `k${Math.floor(rand() * next)}`;
      if (r < 0.4) m.set(key, `over ${i}`);
      else if (r < 0.55) m.delete(key);
      else if (r < 0.75) {
        m.delete(key);
        m.set(key, `moved ${i}`);
      } else if (r < 0.9) m.set(`k${next++}`, `new ${i}`);
      else for (let j = 0; j < 5; j++) m.set(reference[i]![0], `hot ${i}:${j}`);
    }
  }
  t.equal(bad, 0, 'every entry as at the view');
  t.equal(i, reference.length, 'every key of the view, once');
}

t.test('a few writes between reads', async (t) => {
  const seed = testSeed(t, 4242);
  const rand = mulberry32(seed + 1);
  storm(t, { n: 20_000, writesPerRead: () => Math.floor(rand() * 4), seed });
});

t.test('long runs of writes with no read (the writer files its own log)', async (t) => {
  const seed = testSeed(t, 77);
  let reads = 0;
  storm(t, { n: 3_000, writesPerRead: () => (++reads % 1_000 === 0 ? 150_000 : 0), seed });
});

t.test('from a cursor', async (t) => {
  const seed = testSeed(t, 99);
  storm(t, { n: 5_000, writesPerRead: () => 2, cursor: 1_234, seed });
});
