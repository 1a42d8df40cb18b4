/**
 * The GUIDE's cache-checkpointing recipe as written — `source: () => mapSource(cache, { index })`
 * with `noteApplied()` on every write — under a writer that never waits: each scheduled snapshot
 * holds exactly the state at the index in its header (write i sets or deletes one key, so the
 * state at N is the first N writes replayed), although writes went on while it was written.
 * The scheduler takes the view and the metadata in the tick of the trigger.
 */
import t from 'tap';
import path from 'node:path';
import { readSnapshot, CheckpointScheduler, mapSource, DirectorySnapshotStore, type DecodedEntry, type SnapshotMap, type StoredSnapshot } from '../../lib/index.js';

const key = (i: number): string => `key:${(i * 7919) % 40_009}`;
const apply = (m: Map<string, string>, i: number): void => {
  if (i % 5 === 0) m.delete(key(i));
  else m.set(key(i), `written at ${i}`);
};
const stateAt = (n: number): Map<string, string> => {
  const m = new Map<string, string>();
  for (let i = 1; i <= n; i++) apply(m, i);
  return m;
};

t.test('every scheduled snapshot of a live Map holds the state at its index', async (t) => {
  const cache: SnapshotMap = new Map();
  let applied = 0;
  const store = await DirectorySnapshotStore.at(path.join(t.testdir(), 'store'), { write: { codec: 'lz4', blockSize: 32 * 1024 } });
  t.teardown(() => store.close());
  const scheduler = new CheckpointScheduler({ store, everyEntries: 40_000, source: () => mapSource(cache, { index: applied }) });
  const taken: { snapshot: StoredSnapshot; appliedWhenDone: number }[] = [];
  const failures: unknown[] = [];
  scheduler.on('snapshot', (snapshot: StoredSnapshot) => taken.push({ snapshot, appliedWhenDone: applied }));
  scheduler.on('failure', (err) => failures.push(err));
  scheduler.start();
  // Writes go on, a burst a turn of the event loop, until three snapshots were taken.
  await new Promise<void>((resolve) => {
    const burst = (): void => {
      for (let k = 0; k < 2_000; k++) {
        apply(cache as Map<string, string>, ++applied);
        scheduler.noteApplied();
      }
      if (taken.length < 3) setImmediate(burst);
      else resolve();
    };
    burst();
  });
  await scheduler.stop();
  t.same(failures, []);
  t.ok(taken.length >= 3, `${taken.length} snapshots, ${applied} writes`);
  const overlapped = taken.filter((s) => s.appliedWhenDone > s.snapshot.index!).length;
  t.ok(overlapped >= 1, `writes went on during ${overlapped} of them`);
  for (const { snapshot } of taken) {
    const got = new Map<string, string>();
    for await (const batch of readSnapshot(store.open(snapshot.id), { batch: true }) as AsyncIterable<DecodedEntry[]>) {
      for (const e of batch) got.set(String(e.key), String(e.value));
    }
    const want = stateAt(snapshot.index!);
    let wrong = 0;
    for (const [k, v] of want) if (got.get(k) !== v) wrong++;
    t.ok(got.size === want.size && wrong === 0, `snapshot at index ${snapshot.index}: exactly that state (${want.size} keys; got ${got.size}, ${wrong} wrong)`);
  }
});
