/**
 * The S3 store applies its retention by itself, as the directory store does: after each create
 * and each upload, never removing the snapshot just added (even one older than the policy
 * allows) nor one this store instance has in use (an open(id) stream not yet closed, a restore
 * under way); `autoPrune: false` (or `{ prune: false }`) turns it off; a retention run that
 * fails after a create is a `prune-failure` event, the create still resolving. Against a real
 * server.
 */
import t from 'tap';
import path from 'node:path';
import { BusyError, mapApplier, mapSource, S3SnapshotStore, writeSnapshot, type SnapshotApplier, type SnapshotMap } from '../../lib/index.js';
import { freshBucket, testClient } from './fixtures/s3-env.js';
import { checkRetentionAfterCreate, idsOf as ids, smallState as state } from '../fixtures/retention-after-create.js';

const client = testClient();
const HOUR = 3_600_000;

t.test('after each create, the store applies its retention; an open snapshot is kept', async (t) => {
  const bucket = await freshBucket(t, client);
  const store = await S3SnapshotStore.at({ client, bucket, prefix: 'auto/', write: { codec: 'lz4' }, retention: { maxSnapshots: 2 } });
  await checkRetentionAfterCreate(t, store);
});

t.test('autoPrune: false turns it off; another instance with the default applies it', async (t) => {
  const bucket = await freshBucket(t, client);
  const off = await S3SnapshotStore.at({ client, bucket, prefix: 'p/', write: { codec: 'lz4' }, retention: { maxSnapshots: 1 }, autoPrune: false });
  for (const i of [1, 2, 3]) await off.create(mapSource(state(10), { index: i }), undefined, { id: `s${i}` });
  t.same(await ids(off), ['s3', 's2', 's1'], 'nothing pruned by itself');
  const on = await S3SnapshotStore.at({ client, bucket, prefix: 'p/', write: { codec: 'lz4' }, retention: { maxSnapshots: 1 } });
  await on.create(mapSource(state(10), { index: 4 }), undefined, { id: 's4' });
  t.same(await ids(on), ['s4'], 'the default (autoPrune true) prunes after the create');
});

t.test('after an upload; the snapshot just added is kept even when the policy would drop it', async (t) => {
  const bucket = await freshBucket(t, client);
  const store = await S3SnapshotStore.at({ client, bucket, prefix: 'up/', write: { codec: 'lz4' }, retention: { maxAgeMs: HOUR } });
  const dir = t.testdir();
  const file = async (name: string, createdAt: number): Promise<string> => {
    const f = path.join(dir, `${name}.snap`);
    await writeSnapshot([...state(10, name)].map(([key, value]) => ({ key, value: value as string })), f, { codec: 'lz4', meta: { name }, createdAt });
    return f;
  };
  const now = Date.now();
  await store.upload(await file('old3h', now - 3 * HOUR), { prune: false });
  await store.create(mapSource(state(10), { index: 9 }), undefined, { id: 'newest', prune: false });
  t.same(await ids(store), ['newest', 'old3h'], 'prune: false skips it once');
  await store.upload(await file('old2h', now - 2 * HOUR));
  t.same(await ids(store), ['newest', 'old2h'], 'the older one pruned, the one just uploaded (too old, not the newest) kept');
});

t.test('a restore under way keeps its snapshot', async (t) => {
  const bucket = await freshBucket(t, client);
  const store = await S3SnapshotStore.at({ client, bucket, prefix: 'r/', write: { codec: 'lz4' }, retention: { maxSnapshots: 1 } });
  await store.create(mapSource(state(50, 'a'), { index: 1 }), undefined, { id: 's1' });
  const target: SnapshotMap = new Map();
  const inner = mapApplier(target);
  // A new snapshot is created (and retention runs) while s1 is being restored.
  const applier: SnapshotApplier = {
    ...inner,
    begin: async (meta) => {
      await store.create(mapSource(state(10, 'b'), { index: 2 }), undefined, { id: 's2' });
      t.same(await ids(store), ['s2', 's1'], 'the snapshot being restored is kept');
      await inner.begin(meta);
    },
  };
  const result = await store.restore(applier, { id: 's1' });
  t.equal(result.snapshot.id, 's1', 'the snapshot named');
  t.same(new Map([...target].map(([k, v]) => [k, String(v)])), state(50, 'a'), 'restored whole');
  await store.create(mapSource(state(10, 'c'), { index: 3 }), undefined, { id: 's3' });
  t.same(await ids(store), ['s3'], 'pruned once the restore is over');
});

t.test('a retention run that fails after a create is an event; the create resolves', async (t) => {
  const failing = testClient();
  let failDeletes = false;
  failing.middlewareStack.add(
    (next, context) => async (args) => {
      if (failDeletes && context.commandName === 'DeleteObjectCommand') throw Object.assign(new Error('injected: delete refused'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
      return next(args);
    },
    { step: 'initialize' },
  );
  const bucket = await freshBucket(t, client);
  const store = await S3SnapshotStore.at({ client: failing, bucket, prefix: 'f/', write: { codec: 'lz4' }, retention: { maxSnapshots: 1 } });
  const failures: unknown[] = [];
  store.on('prune-failure', (err: unknown) => failures.push(err));
  await store.create(mapSource(state(10), { index: 1 }), undefined, { id: 's1' });
  failDeletes = true;
  const created = await store.create(mapSource(state(10), { index: 2 }), undefined, { id: 's2' });
  t.equal(created.id, 's2', 'the create resolves');
  t.equal(failures.length, 1, 'one prune-failure event');
  t.match(String((failures[0] as Error).message), /deleting .*s1\.snap/, 'naming the removal that failed');
  t.same(await ids(store), ['s2', 's1'], 'both still there');
  failDeletes = false;
  await store.create(mapSource(state(10), { index: 3 }), undefined, { id: 's3' });
  t.same(await ids(store), ['s3'], 'the next run prunes both');
});

t.test('delete refuses a snapshot this instance has open, as the directory store does', async (t) => {
  const bucket = await freshBucket(t, client);
  const store = await S3SnapshotStore.at({ client, bucket, prefix: 'del/', write: { codec: 'lz4' } });
  await store.create(mapSource(state(10), { index: 1 }), undefined, { id: 's1' });
  const reading = store.open('s1');
  await t.rejects(store.delete('s1'), BusyError, 'in use: refused');
  t.same(await ids(store), ['s1'], 'still there');
  reading.destroy();
  await new Promise((resolve) => reading.once('close', resolve));
  await store.delete('s1');
  t.same(await ids(store), [], 'deleted once its stream is closed');
});
