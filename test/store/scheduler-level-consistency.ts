/**
 * CheckpointScheduler snapshots a real LevelDB (classic-level) under a concurrent write load:
 * the writer never waits for a snapshot, and writes keep landing while each snapshot is being
 * written. The source is made at trigger time, synchronously, with the applied index of that
 * moment (`() => levelSource(db, { index })`), so each snapshot must hold exactly the state the
 * database had at that index: with every write `put(key(i), String(i))`, a snapshot with
 * meta.index = N holds exactly the keys and values the first N writes produce — no later write,
 * no earlier value. Checked for every snapshot taken (read back verified), and for the newest by
 * a full restore into another LevelDB.
 */
import t from 'tap';
import path from 'node:path';
import { ClassicLevel } from 'classic-level';
import {
  readSnapshot,
  CheckpointScheduler,
  levelApplier,
  levelSource,
  DirectorySnapshotStore,
  type DecodedEntry,
  type StoredSnapshot,
} from '../../lib/index.js';
import { diff, dump, openDb } from './fixtures/level.js';

const WRITES = 20_000;
// Write i puts key(i): a mix of fresh keys and overwrites of earlier ones.
const key = (i: number): string => `key:${String((i * 7919) % 3001).padStart(5, '0')}`;

function stateAt(n: number): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 1; i <= n; i++) m.set(key(i), String(i));
  return m;
}

t.test('every scheduled snapshot holds the state at its index, while writes go on', async (t) => {
  const dir = t.testdir();
  const db = new ClassicLevel<string, string>(path.join(dir, 'db'), { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  t.teardown(() => db.close());
  const store = await DirectorySnapshotStore.at(path.join(dir, 'snapshots'), { write: { blockSize: 16 * 1024 } });
  t.teardown(() => store.close());

  let applied = 0;
  const scheduler = new CheckpointScheduler({
    store,
    everyEntries: 2000,
    source: () => levelSource(db, { index: applied }),
  });
  const taken: { snapshot: StoredSnapshot; appliedWhenDone: number }[] = [];
  const failures: unknown[] = [];
  let skipped = 0;
  scheduler.on('snapshot', (snapshot: StoredSnapshot) => taken.push({ snapshot, appliedWhenDone: applied }));
  scheduler.on('failure', (err) => failures.push(err));
  scheduler.on('skipped', () => skipped++);
  scheduler.start();
  // A first checkpoint, taken by hand before the load starts (it also starts the compression
  // workers, which are slow to start under the TypeScript loader the tests run in).
  const WARM = 3000;
  for (let i = 1; i <= WARM; i++) {
    await db.put(key(i), String(i));
    applied = i;
  }
  const first = await scheduler.checkpoint();
  t.equal(first?.index, WARM, 'a first checkpoint at the index of that moment');

  let slowest = 0;
  for (let i = WARM + 1; i <= WRITES; i++) {
    const t0 = performance.now();
    await db.put(key(i), String(i));
    slowest = Math.max(slowest, performance.now() - t0);
    applied = i;
    scheduler.noteApplied(1);
  }
  await scheduler.stop();

  t.same(failures, [], 'no snapshot failed');
  t.ok(taken.length >= 3, `${taken.length} snapshots taken (${skipped} triggers skipped while one was running)`);
  const overlapped = taken.slice(1).filter((s) => s.appliedWhenDone > s.snapshot.index!);
  t.ok(overlapped.length >= taken.length - 2, `writes went on during ${overlapped.length} of ${taken.length - 1} snapshots taken under load`);
  t.comment(`writes during each snapshot: ${taken.slice(1).map((s) => s.appliedWhenDone - s.snapshot.index!).join(', ')}; slowest put ${slowest.toFixed(1)} ms`);
  t.same(
    (await store.list()).map((s) => s.id),
    taken.map((s) => s.snapshot.id).reverse(),
    'all of them in the store, newest first',
  );

  for (const { snapshot } of taken) {
    const n = snapshot.index!;
    t.ok(n >= 0 && n <= WRITES, `index ${n}`);
    const got = new Map<string, string>();
    for await (const batch of readSnapshot(store.open(snapshot.id), { batch: true }) as AsyncIterable<DecodedEntry[]>) {
      for (const e of batch) got.set(e.key.toString(), e.value.toString());
    }
    const want = stateAt(n);
    t.same(diff(got, want), [], `snapshot at index ${n}: exactly the first ${n} writes (${want.size} keys)`);
  }

  // The newest, restored into another LevelDB through the level applier.
  const location = path.join(dir, 'replica');
  const handle = { location, db: await openDb(location), open: openDb };
  t.teardown(() => handle.db.close());
  const restored = await store.restore(levelApplier(handle));
  t.equal(restored.snapshot.id, taken.at(-1)!.snapshot.id);
  t.same(diff(await dump(handle.db), stateAt(restored.snapshot.index!)), [], 'the restored database holds exactly that state');
});
