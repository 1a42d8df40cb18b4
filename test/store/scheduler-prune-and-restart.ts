/**
 * CheckpointScheduler: a prune that fails after a snapshot was stored does not turn that
 * snapshot into a failure (it is returned and reported; the prune error has its own event), and
 * start() called twice runs one interval timer, not two.
 */
import t from 'tap';
import path from 'node:path';
import { CheckpointScheduler, SnapshotStore, type SnapshotSource } from '../../lib/index.js';

const source = (): SnapshotSource => ({
  *entries() {
    for (let i = 0; i < 10; i++) yield { key: `k${i}`, value: 'v' };
  },
  meta: () => ({ index: 1 }),
});

t.test('a failed prune keeps the snapshot it followed', async (t) => {
  const store = await SnapshotStore.open(path.join(t.testdir(), 'store'), { write: { codec: 'lz4' } });
  t.teardown(() => store.close());
  store.prune = () => Promise.reject(new Error('prune broke'));
  const scheduler = new CheckpointScheduler({ store, source, everyEntries: 1000 });
  const events: string[] = [];
  scheduler.on('snapshot', () => events.push('snapshot'));
  scheduler.on('failure', () => events.push('failure'));
  scheduler.on('pruneFailure', (err: Error) => events.push(`pruneFailure: ${err.message}`));
  const stored = await scheduler.checkpoint();
  t.ok(stored, 'checkpoint() resolves with the snapshot');
  t.same(events, ['snapshot', 'pruneFailure: prune broke']);
  t.equal(store.list().length, 1, 'and it is in the store');
});

t.test('start() twice: one timer', async (t) => {
  const store = await SnapshotStore.open(path.join(t.testdir(), 'store'), { write: { codec: 'lz4' } });
  t.teardown(() => store.close());
  const scheduler = new CheckpointScheduler({ store, source, interval: 50 });
  let triggers = 0;
  scheduler.on('snapshot', () => triggers++);
  scheduler.on('skipped', () => triggers++);
  scheduler.start();
  scheduler.start();
  await new Promise((resolve) => setTimeout(resolve, 280));
  await scheduler.stop();
  // One timer fires 5 times in 280 ms (fewer on a slow machine); two would fire about 10.
  t.ok(triggers >= 1 && triggers <= 6, `${triggers} triggers`);
  const after = triggers;
  await new Promise((resolve) => setTimeout(resolve, 120));
  t.equal(triggers, after, 'nothing fires after stop()');
});
