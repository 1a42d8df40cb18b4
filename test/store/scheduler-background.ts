/**
 * A CheckpointScheduler takes its snapshots as background work by default (`background: true`
 * on store.create: a share of the main thread while the application is busy, one block
 * compressed at a time), and passes `background: false` or its own `pace` when told to.
 */
import t, { type Test } from 'tap';
import path from 'node:path';
import { CheckpointScheduler, mapSource, DirectorySnapshotStore, type CreateOptions, type SnapshotMap } from '../../lib/index.js';

async function optionsSeen(t: Test, extra: Record<string, unknown>): Promise<CreateOptions[]> {
  const store = await DirectorySnapshotStore.at(path.join(t.testdir(), 'store'), { write: { codec: 'lz4' } });
  t.teardown(() => store.close());
  const seen: CreateOptions[] = [];
  const create = store.create.bind(store);
  store.create = (source, meta, options) => {
    seen.push(options ?? {});
    return create(source, meta, options);
  };
  const cache: SnapshotMap = new Map([['a', '1']]);
  const scheduler = new CheckpointScheduler({ store, intervalMs: 60_000, source: () => mapSource(cache, { index: 1 }), ...extra });
  const snap = await scheduler.checkpoint();
  t.ok(snap, 'a snapshot was taken');
  await scheduler.stop();
  return seen;
}

t.test('background by default', async (t) => {
  const seen = await optionsSeen(t, {});
  t.equal(seen.length, 1);
  t.equal(seen[0]!.background, true, 'store.create was asked for a background snapshot');
});

t.test('background: false and pace are passed on', async (t) => {
  const seen = await optionsSeen(t, { background: false, pace: { sliceMs: 1, share: 0.5 } });
  t.equal(seen[0]!.background, false);
  t.same(seen[0]!.pace, { sliceMs: 1, share: 0.5 });
});
