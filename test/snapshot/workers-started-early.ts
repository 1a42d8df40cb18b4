/**
 * writeSnapshot (zstd) starts its worker threads when it is called, so they start while the
 * source gives its first entries (a database opening its iterator) instead of after the first
 * block is full. Runs in a process of its own, before any worker thread was started.
 */
import t from 'tap';
import { sharedPool } from '../../lib/codec/worker-pool.js';
import { readSnapshot, writeSnapshot } from '../../lib/index.js';

t.test('the worker threads are starting before the source gives its first entry', async (t) => {
  t.equal(sharedPool().threads, 0, 'none has started in this process');
  let threadsAtFirst = -1;
  function* entries() {
    threadsAtFirst = sharedPool().threads;
    for (let i = 0; i < 5000; i++) yield { key: `key-${i}`, value: `value ${i}`.repeat(3) };
  }
  const file = `${t.testdir()}/early.snap`;
  await writeSnapshot(entries(), file, { codec: 'zstd' });
  t.ok(threadsAtFirst >= 1, `${threadsAtFirst} thread(s) started by then`);
  let n = 0;
  for await (const e of readSnapshot(file)) if (e.key) n++;
  t.equal(n, 5000, 'the snapshot reads back');
});

