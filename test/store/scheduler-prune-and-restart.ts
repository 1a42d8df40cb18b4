/**
 * CheckpointScheduler: a prune that fails after a snapshot was stored does not turn that
 * snapshot into a failure (it is returned and reported; the prune error has its own event), and
 * start() called twice runs one interval timer, not two.
 */
import t from 'tap';
import path from 'node:path';
import { CheckpointScheduler, DirectorySnapshotStore, type SnapshotSource } from '../../lib/index.js';

const source = (): SnapshotSource => ({
  *entries() {
    for (let i = 0; i < 10; i++) yield { key: `k${i}`, value: 'v' };
  },
  meta: () => ({ index: 1 }),
});

t.test('a failed prune keeps the snapshot it followed', async (t) => {
  const store = await DirectorySnapshotStore.at(path.join(t.testdir(), 'store'), { write: { codec: 'lz4' } });
  t.teardown(() => store.close());
  store.prune = () => Promise.reject(new Error('prune broke'));
  const scheduler = new CheckpointScheduler({ store, source, everyEntries: 1000 });
  const events: string[] = [];
  scheduler.on('snapshot', () => events.push('snapshot'));
  scheduler.on('failure', () => events.push('failure'));
  scheduler.on('prune-failure', (err: Error) => events.push(`prune-failure: ${err.message}`));
  const stored = await scheduler.checkpoint();
  t.ok(stored, 'checkpoint() resolves with the snapshot');
  t.same(events, ['snapshot', 'prune-failure: prune broke']);
  t.equal((await store.list()).length, 1, 'and it is in the store');
});

t.test('start() twice: one timer, and none once stopped', async (t) => {
  const store = await DirectorySnapshotStore.at(path.join(t.testdir(), 'store'), { write: { codec: 'lz4' } });
  t.teardown(() => store.close());
  // Every interval timer the scheduler makes, and whether it was cleared.
  const live = new Set<unknown>();
  const realSet = globalThis.setInterval;
  const realClear = globalThis.clearInterval;
  globalThis.setInterval = ((fn: () => void, ms: number) => {
    const timer = realSet(fn, ms);
    live.add(timer);
    return timer;
  }) as typeof setInterval;
  globalThis.clearInterval = ((timer: NodeJS.Timeout) => {
    live.delete(timer);
    realClear(timer);
  }) as typeof clearInterval;
  t.teardown(() => {
    globalThis.setInterval = realSet;
    globalThis.clearInterval = realClear;
  });
  const scheduler = new CheckpointScheduler({ store, source, intervalMs: 50 });
  scheduler.start();
  scheduler.start();
  t.equal(live.size, 1, 'one timer running');
  await scheduler.stop();
  t.equal(live.size, 0, 'none after stop()');
});
