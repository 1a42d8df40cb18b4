/**
 * store.create() owns the source it is handed: the source is closed (releasing, say, a database
 * view) whether the snapshot is written or refused — an id that exists already, a closed store.
 * And one snapshot is never written by two creates at once: a second create resuming the same
 * pending partial while the first is under way is SNAP_ERR_BUSY, and leaves the first's file
 * intact.
 */
import t from 'tap';
import path from 'node:path';
import { readSnapshot, DirectorySnapshotStore, type DecodedEntry, type SnapshotSource } from '../../lib/index.js';

function counted(n: number, options: { delayEvery?: number; abortAt?: { entry: number; controller: AbortController } } = {}): SnapshotSource & { closed: number } {
  const source = {
    closed: 0,
    async *entries(cursor: unknown) {
      for (let i = typeof cursor === 'number' ? cursor : 0; i < n; i++) {
        if (options.abortAt?.entry === i) options.abortAt.controller.abort();
        if (options.delayEvery && i % options.delayEvery === 0) await new Promise((r) => setTimeout(r, 1));
        yield { key: `k${String(i).padStart(6, '0')}`, value: Buffer.alloc(500, i % 251) };
      }
    },
    close() {
      source.closed++;
    },
  };
  return source;
}

t.test('the source is closed when the create succeeds and when it is refused', async (t) => {
  const dir = path.join(t.testdir(), 'store');
  const store = await DirectorySnapshotStore.at(dir);
  const ok = counted(10);
  await store.create(ok, { index: 1 }, { id: 'one' });
  t.equal(ok.closed, 1, 'closed after a create');
  const dup = counted(10);
  await t.rejects(store.create(dup, { index: 1 }, { id: 'one' }), { code: 'SNAP_ERR_INVALID_ARGUMENT' });
  t.equal(dup.closed, 1, 'closed when the id exists already');
  await store.close();
  const late = counted(10);
  await t.rejects(store.create(late, { index: 2 }), { code: 'SNAP_ERR_INVALID_ARGUMENT', message: /closed/ });
  t.equal(late.closed, 1, 'closed when the store is closed');
});

t.test('two creates of one pending snapshot at once: the second is BUSY', async (t) => {
  const dir = path.join(t.testdir(), 'store');
  const options = { write: { codec: 'lz4' as const, blockSize: 16 * 1024 } };
  let store = await DirectorySnapshotStore.at(dir, options);
  // Interrupt a create half way: a resumable partial is left.
  const abort = new AbortController();
  // Aborted half way through the source (not after a fixed time, which a loaded machine may
  // spend before the first block): by then the blocks before it have reached the file.
  const first = counted(4000, { delayEvery: 50, abortAt: { entry: 2000, controller: abort } });
  await t.rejects(store.create(first, { index: 7 }, { signal: abort.signal }));
  await store.close();
  store = await DirectorySnapshotStore.at(dir, options);
  t.teardown(() => store.close());
  t.equal(store.pending.length, 1, 'a pending partial');

  const a = store.create(counted(4000, { delayEvery: 50 }), { index: 7 });
  const second = counted(4000);
  await t.rejects(store.create(second, { index: 7 }), { code: 'SNAP_ERR_BUSY' }, 'the second create is refused');
  t.equal(second.closed, 1, 'and its source closed');
  const done = await a;
  let count = 0;
  for await (const batch of readSnapshot(store.open(done.id), { batch: true }) as AsyncIterable<DecodedEntry[]>) count += batch.length;
  t.equal(count, 4000, 'the first create finished a whole, verified snapshot');
  await store.verify(done.id);
});
