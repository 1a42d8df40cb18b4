/**
 * SIGKILL a process in the middle of `store.create` (a child running store-child.ts): the store
 * opens cleanly afterwards — the dead process's lock is stale and taken over — no valid snapshot
 * is lost, the partial the kill left is reported in `store.pending`, and a second create with
 * the same metadata resumes it (the source restarts from the partial's cursor, not from the
 * start) and finishes a snapshot holding every entry. Also killed as soon as the partial
 * appears, and killed after the final rename but before the list was saved (the finished file
 * is adopted when the store opens).
 */
import t, { type Test } from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { readSnapshot, DirectorySnapshotStore, type DecodedEntry } from '../../lib/index.js';
import { childLib, startChild } from './fixtures/child.js';
import { entryAt, slowSource } from './fixtures/data.mjs';

const COUNT = 3000; // 4.5 MB of barely compressible values
const META = { index: 2, term: 1 };
// As the child's (lz4: no zstd worker threads to start under the TypeScript loader).
const options = { write: { codec: 'lz4' as const, blockSize: 64 * 1024, syncEvery: 256 * 1024 } };

/** A store holding one valid snapshot, made before any child runs. */
async function storeWithOne(dir: string): Promise<string> {
  const store = await DirectorySnapshotStore.at(dir, options);
  const first = await store.create(slowSource(500, { seed: 7 }), { index: 1, term: 1 });
  await store.close();
  return first.id;
}

function partialIn(dir: string): string | undefined {
  return fs.readdirSync(dir).find((n) => n.endsWith('.snap.partial'));
}

async function waitFor<T>(what: string, check: () => T | undefined | false, timeout = 20_000): Promise<T> {
  const until = Date.now() + timeout;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const lockPid = (dir: string): number => (JSON.parse(fs.readFileSync(path.join(dir, 'LOCK'), 'utf8')) as { pid: number }).pid;

/** Every entry of snapshot `id` equals the source's. */
async function checkContent(t: Test, store: DirectorySnapshotStore, id: string, count: number, seed = 1): Promise<void> {
  let i = 0;
  let wrong = 0;
  for await (const batch of readSnapshot(store.open(id), { batch: true }) as AsyncIterable<DecodedEntry[]>) {
    for (const e of batch) {
      const want = entryAt(i++, seed);
      if (e.key !== want.key || !(want.value as Buffer).equals(e.value as Buffer)) wrong++;
    }
  }
  t.equal(i, count, `${id}: ${count} entries`);
  t.equal(wrong, 0, `${id}: every entry equal to the source's`);
}

t.comment(`the child processes run snapstream from ${childLib}/`);

t.test('killed mid-write: opens cleanly, the partial is pending, the same create resumes it', async (t) => {
  const dir = t.testdir();
  const first = await storeWithOne(dir);
  const child = startChild(['create', dir, String(COUNT)]);
  t.teardown(() => child.kill());
  await child.next('open');
  const partial = await waitFor('1.5 MB written', () => {
    const name = partialIn(dir);
    return name && fs.statSync(path.join(dir, name)).size >= 1.5e6 ? name : undefined;
  });
  await child.kill();
  t.notOk(child.events.some((e) => e.event === 'created'), 'killed before it finished');
  const held = fs.statSync(path.join(dir, partial)).size;
  t.ok(held < COUNT * 1500, `the kill left a partial of ${held} bytes`);
  t.equal(lockPid(dir), child.process.pid, "the dead process's lock is still there");

  const store = await DirectorySnapshotStore.at(dir, options);
  t.teardown(() => store.close());
  t.equal(lockPid(dir), process.pid, 'the stale lock was taken over');
  t.same(
    (await store.list()).map((s) => s.id),
    [first],
    'the valid snapshot is still listed',
  );
  await store.verify(first);
  t.equal(store.pending.length, 1, 'the partial is reported as pending');
  const pending = store.pending[0]!;
  t.equal(path.basename(pending.path), partial);
  t.same(pending.header?.meta, META, 'with its metadata');
  t.ok(pending.entries > 0 && pending.entries < COUNT, `${pending.entries} entries durable in it`);

  const source = slowSource(COUNT);
  const created = await store.create(source, { ...META });
  t.equal(`${created.id}.snap.partial`, partial, 'the same snapshot, under the id the partial had');
  t.same(source.calls, [pending.entries], 'the source restarted from the cursor of the partial, not from the start');
  t.same(store.pending, [], 'nothing pending any more');
  t.notOk(fs.existsSync(path.join(dir, partial)), 'the partial became the snapshot');
  t.same(
    (await store.list()).map((s) => s.id),
    [created.id, first],
  );
  await store.verify(created.id);
  await checkContent(t, store, created.id, COUNT);
  await checkContent(t, store, first, 500, 7);
});

t.test('killed as soon as the partial appears: opens cleanly, the next create writes it whole', async (t) => {
  const dir = t.testdir();
  const first = await storeWithOne(dir);
  const child = startChild(['create', dir, String(COUNT)]);
  t.teardown(() => child.kill());
  await child.next('open');
  await waitFor('the partial', () => partialIn(dir));
  await child.kill();

  const store = await DirectorySnapshotStore.at(dir, options);
  t.teardown(() => store.close());
  t.same(
    (await store.list()).map((s) => s.id),
    [first],
  );
  await store.verify(first);
  // Whatever the kill left (nothing, a header, a few blocks) is pending or cleaned, never listed.
  t.ok(store.pending.length <= 1);
  const created = await store.create(slowSource(COUNT), { ...META });
  await store.verify(created.id);
  await checkContent(t, store, created.id, COUNT);
  t.same(
    fs
      .readdirSync(dir)
      .filter((n) => n.endsWith('.partial'))
      .sort(),
    [],
    'no partial left',
  );
});

t.test('killed after the final rename, before the list was saved: the file is adopted', async (t) => {
  const dir = t.testdir();
  const first = await storeWithOne(dir);
  const child = startChild(['create', dir, '400', 'after-rename']);
  t.teardown(() => child.kill());
  await child.next('point');
  await child.kill();
  const names = fs.readdirSync(dir).filter((n) => n.endsWith('.snap'));
  t.equal(names.length, 2, 'the new file is in place');
  const saved = JSON.parse(fs.readFileSync(path.join(dir, 'store.json'), 'utf8')) as { snapshots: { id: string }[] };
  t.same(
    saved.snapshots.map((s) => s.id),
    [first],
    'but the list does not know it',
  );

  const store = await DirectorySnapshotStore.at(dir, options);
  t.teardown(() => store.close());
  const list = await store.list();
  t.equal(list.length, 2, 'adopted on open');
  t.equal(list[1]!.id, first);
  t.same(list[0]!.meta, META);
  t.same(store.pending, []);
  await store.verify(list[0]!.id);
  await checkContent(t, store, list[0]!.id, 400);
  const resaved = JSON.parse(fs.readFileSync(path.join(dir, 'store.json'), 'utf8')) as { snapshots: { id: string }[] };
  t.same(
    resaved.snapshots.map((s) => s.id),
    list.map((s) => s.id),
    'and the list saved',
  );
});
