/**
 * CheckpointScheduler takes any SnapshotStore: here snapshots of a live Map go straight into a
 * bucket prefix of a real server, by entry count and by checkpoint(), the store's retention
 * applied after each (the `pruned` event naming what went); each snapshot holds the state at its
 * index, and a restore of a named older one gives back exactly that state (no fall back to the
 * newest).
 */
import t from 'tap';
import { CheckpointScheduler, mapApplier, mapSource, S3SnapshotStore, type SnapshotMap, type StoredSnapshot } from '../../lib/index.js';
import { freshBucket, testClient } from './fixtures/s3-env.js';

const client = testClient();

t.test('snapshots into S3 by entries and checkpoint(), pruned by retention, restored by id', async (t) => {
  const bucket = await freshBucket(t, client);
  const store = await S3SnapshotStore.at({ client, bucket, prefix: 'scheduled/', retention: { maxSnapshots: 2 }, write: { codec: 'lz4' } });
  const cache: SnapshotMap = new Map();
  let applied = 0;
  const scheduler = new CheckpointScheduler({ store, everyEntries: 100, source: () => mapSource(cache, { index: applied }) });
  const taken: StoredSnapshot[] = [];
  const pruned: string[][] = [];
  const failures: unknown[] = [];
  scheduler.on('snapshot', (s: StoredSnapshot) => taken.push(s));
  scheduler.on('pruned', (ids: string[]) => pruned.push(ids));
  scheduler.on('failure', (err: unknown) => failures.push(err));
  scheduler.on('prune-failure', (err: unknown) => failures.push(err));
  const write = (version: number): void => {
    for (let i = 0; i < 100; i++) cache.set(`k${i}`, `v${version}`);
    applied += 100;
  };

  scheduler.start();
  for (const version of [1, 2]) {
    write(version);
    scheduler.noteApplied(100); // crosses everyEntries: a snapshot starts in the background
    await scheduler.stop(); // waits for it (and its prune)
    scheduler.start();
  }
  write(3);
  const third = await scheduler.checkpoint();
  await scheduler.stop();

  t.same(failures, [], 'no failure');
  t.same(taken.map((s) => s.index), [100, 200, 300], 'one snapshot per trigger, each at its index');
  t.equal(third?.id, taken[2]!.id, 'checkpoint() resolves with its snapshot');
  t.same(pruned, [[taken[0]!.id]], "the store's retention (maxSnapshots 2) pruned the oldest");
  t.same((await store.list()).map((s) => s.index), [300, 200], 'two kept in the bucket');

  const restored: SnapshotMap = new Map();
  const result = await store.restore(mapApplier(restored), { id: taken[1]!.id });
  t.equal(result.snapshot.index, 200, 'the named snapshot, not the newest');
  t.equal(restored.size, 100);
  t.same([...new Set(restored.values())], ['v2'], 'the state at index 200');
});
