/**
 * mapSource is a point-in-time view: 1,000,000 entries, and a writer doing batches of
 * set/delete (overwrites, new keys, deletes, delete-then-set which moves a key to the end, now
 * and then a value wrapped with an expiry) on every turn of the event loop while store.create
 * writes the snapshot. The snapshot is labelled with the index of the moment mapSource was
 * called, and restoring it gives exactly the map as it was at that index — every key, every
 * value, in the same order — compared with a reference copy the test takes at that index.
 *
 * Twice: 1,000,000 entries at full speed (`background: false`), and 200,000 at the default pace
 * (background: a twentieth of the main thread while the writer keeps it busy, so the view stays open
 * twenty times as long and takes many more writes; a million at that pace beside a writer this
 * heavy takes minutes on a loaded machine, and exactness does not depend on the pace).
 */
import t from 'tap';
import path from 'node:path';
import { mapApplier, mapSource, DirectorySnapshotStore, type SnapshotMap } from '../../lib/index.js';
import { mulberry32 } from '../fixtures/random.js';

const BATCH = 4_000; // writes per turn of the event loop
const SEED = 1313;

for (const [N, options] of [
  [1_000_000, { background: false }],
  [200_000, {}],
] as const) {
  t.test(`a snapshot of a Map under a write storm holds exactly the state at its index (${N} entries, ${JSON.stringify(options)})`, async (t) => {
    t.comment(`seed ${SEED}`);
    const rand = mulberry32(SEED);
    const cache: SnapshotMap = new Map();
    for (let i = 0; i < N; i++) cache.set(`key:${i}`, `value ${i} at 0`);
    let nextKey = N;
    let index = 0;
    let ops = 0; // set and delete calls
    const write = (): void => {
      index++;
      ops++;
      const r = rand();
      const k = `key:${Math.floor(rand() * nextKey)}`;
      if (r < 0.45) cache.set(k, `value at ${index}`);
      else if (r < 0.65) cache.set(`key:${nextKey++}`, `new at ${index}`);
      else if (r < 0.85) cache.delete(k);
      else if (r < 0.95) {
        cache.delete(k);
        cache.set(k, `moved at ${index}`);
        ops++;
      } else cache.set(k, { value: `wrapped at ${index}`, expiresAt: 4_000_000_000_000 + index });
    };
    // Some history before the snapshot.
    for (let i = 0; i < 50_000; i++) write();

    const store = await DirectorySnapshotStore.at(path.join(t.testdir(), 'store'), { write: { codec: 'lz4' } });
    t.teardown(() => store.close());

    let done = false;
    let turns = 0;
    const storm = (): void => {
      if (done) return;
      for (let i = 0; i < BATCH; i++) write();
      turns++;
      setImmediate(storm);
    };
    // The reference and the view, at one index, in one tick.
    const labelled = index;
    const reference = new Map(cache);
    const opsBefore = ops;
    const started = performance.now();
    const creating = store.create(mapSource(cache, { index: labelled }), undefined, options);
    setImmediate(storm);
    const snap = await creating.finally(() => (done = true));
    const seconds = (performance.now() - started) / 1000;
    const during = ops - opsBefore;
    t.comment(`${during} sets and deletes during the snapshot (${Math.round(during / seconds)} a second over ${seconds.toFixed(2)} s)`);
    t.ok(turns >= 2, `writes went on while the snapshot was written (${turns} batches of ${BATCH})`);
    t.equal(snap.index, labelled, 'labelled with the index of the mapSource call');
    t.equal(snap.entries, reference.size, 'as many entries as the map had then');
    t.not(cache.size === reference.size && index === labelled, true, 'the map moved on');
    t.notOk(Object.hasOwn(cache, 'set') || Object.hasOwn(cache, 'delete') || Object.hasOwn(cache, 'clear'), 'the patches are gone');

    const restored: SnapshotMap = new Map();
    await store.restore(mapApplier(restored), { now: 0 });
    t.equal(restored.size, reference.size, 'restored size');
    const want = reference.entries();
    let mismatches = 0;
    let first = '';
    for (const [k, v] of restored) {
      const next = want.next();
      const [wk, wv] = next.done ? [undefined, undefined] : next.value;
      if (k !== wk || JSON.stringify(v) !== JSON.stringify(wv)) {
        if (mismatches++ === 0) first = `${String(k)}=${JSON.stringify(v)}, want ${wk}=${JSON.stringify(wv)}`;
      }
    }
    t.equal(mismatches, 0, `every entry and its place as at index ${labelled}${first ? ` (first: ${first})` : ''}`);
  });
}
