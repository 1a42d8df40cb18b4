/**
 * store.create takes any iterable or async iterable of entries as well as a SnapshotSource: an
 * array (which has an entries() method, and is still not a SnapshotSource), a generator, an
 * async generator. And a create that fails leaves no partial file the store does not report:
 * one a later create can resume is listed in `pending` (the same as after reopening), one that
 * cannot is removed, and a create that failed before its first byte leaves nothing.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { readSnapshot, DirectorySnapshotStore, type DecodedEntry, type Entry, type SnapshotSource } from '../../lib/index.js';

const entries = (n: number): Entry[] => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));

async function readAll(store: DirectorySnapshotStore, id: string): Promise<string[]> {
  const out: string[] = [];
  for await (const batch of readSnapshot(store.open(id), { batch: true }) as AsyncIterable<DecodedEntry[]>) for (const e of batch) out.push(`${e.key}=${e.value}`);
  return out;
}

t.test('an array, a generator and an async generator of entries', async (t) => {
  const store = await DirectorySnapshotStore.at(path.join(t.testdir(), 'store'), { write: { codec: 'lz4' } });
  t.teardown(() => store.close());
  const want = entries(1000).map((e) => `${e.key}=${e.value}`);
  const fromArray = await store.create([...entries(1000)], { index: 1 });
  t.same(await readAll(store, fromArray.id), want, 'an array');
  t.same(fromArray.meta, { index: 1 });
  const fromGenerator = await store.create((function* () {
    yield* entries(1000);
  })(), { index: 2 });
  t.same(await readAll(store, fromGenerator.id), want, 'a generator');
  const fromAsync = await store.create((async function* () {
    for (const e of entries(1000)) yield e;
  })(), { index: 3 });
  t.same(await readAll(store, fromAsync.id), want, 'an async generator');
});

t.test('a failed create: its partial is pending, or gone', async (t) => {
  const dir = path.join(t.testdir(), 'store');
  const options = { write: { codec: 'lz4' as const, blockSize: 16 * 1024 } };
  let store = await DirectorySnapshotStore.at(dir, options);
  const failing = (after: number): SnapshotSource => ({
    *entries() {
      for (let i = 0; i < 100_000; i++) {
        if (i === after) throw new Error('the source broke');
        yield { key: `k${String(i).padStart(6, '0')}`, value: 'x'.repeat(100) };
      }
    },
  });
  await t.rejects(store.create(failing(20_000), { index: 9 }, { id: 'broken' }), { message: 'the source broke' });
  const partials = fs.readdirSync(dir).filter((n) => n.endsWith('.partial'));
  t.same(partials, ['broken.snap.partial'], 'a partial with whole blocks is kept');
  t.same(store.pending.map((p) => path.basename(p.path)), partials, 'and reported as pending');
  t.ok(store.pending[0]!.entries > 0, `${store.pending[0]!.entries} entries in it`);
  await store.close();
  store = await DirectorySnapshotStore.at(dir, options);
  t.teardown(() => store.close());
  t.same(store.pending.map((p) => path.basename(p.path)), partials, 'the same after reopening');

  await t.rejects(store.create(failing(0), { index: 10 }, { id: 'empty' }), { message: 'the source broke' });
  t.same(fs.readdirSync(dir).filter((n) => n.endsWith('.partial')), partials, 'a create that failed at once leaves nothing more');
  t.same(store.pending.map((p) => path.basename(p.path)), partials);
});
