/**
 * CheckpointScheduler.checkpoint() snapshots the state as of the call: when a scheduled
 * snapshot is under way (begun earlier, at an older index), checkpoint() waits for it and then
 * takes a new one at the current index, instead of handing back the older one. It works after
 * stop() too, and whatever minIntervalMs says.
 */
import t from 'tap';
import path from 'node:path';
import { CheckpointScheduler, DirectorySnapshotStore, type SnapshotSource } from '../../lib/index.js';

t.test('checkpoint() during a running snapshot takes a new one at the current index', async (t) => {
  const store = await DirectorySnapshotStore.at(path.join(t.testdir(), 'store'), { write: { codec: 'lz4' } });
  t.teardown(() => store.close());
  let index = 0;
  // A slow source: 50 entries, 4 ms apart, labelled with the index of the moment it was made.
  const source = (): SnapshotSource => {
    const at = index;
    return {
      async *entries() {
        for (let i = 0; i < 50; i++) {
          await new Promise((r) => setTimeout(r, 4));
          yield { key: `k${i}`, value: `at ${at}` };
        }
      },
      meta: () => ({ index: at }),
    };
  };
  const scheduler = new CheckpointScheduler({ store, source, everyEntries: 10, minIntervalMs: 60_000 });
  const taken: number[] = [];
  scheduler.on('snapshot', (s: { index: number }) => taken.push(s.index));
  scheduler.start();

  index = 10;
  scheduler.noteApplied(10); // starts a snapshot at index 10 in the background
  await new Promise((r) => setTimeout(r, 30));
  index = 15;
  scheduler.noteApplied(5); // applied while it runs
  const now = await scheduler.checkpoint();
  t.equal(now?.index, 15, 'the checkpoint holds the state at the time of the call, not the older one under way');
  t.same(taken, [10, 15], 'the scheduled snapshot finished first, then the checkpoint');

  await scheduler.stop();
  index = 20;
  const afterStop = await scheduler.checkpoint();
  t.equal(afterStop?.index, 20, 'after stop(), and within minIntervalMs, checkpoint() still takes one');
  t.same(
    (await store.list()).map((s) => s.index),
    [20, 15, 10],
  );
});
