/**
 * The S3 store, like the disk store: an object whose name is no snapshot id, or that is no
 * snapshot, is reported in `problems` and skipped (every good snapshot listed, verified,
 * restored); a codec that cannot run (every worker job fails, injected) gets snapshots reported
 * as `failed` by verifyAll and restore rejected with SNAP_ERR_CODEC, and no object is moved
 * aside; a download never writes through a link planted at its partial.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { mapApplier, S3SnapshotStore, writeSnapshot, type SnapshotMap } from '../../lib/index.js';
import { sharedPool } from '../../lib/codec/worker-pool.js';
import { freshBucket, testClient } from './fixtures/s3-env.js';

const client = testClient();

async function storeWithTwo(t: Parameters<Parameters<typeof t.test>[1]>[0]): Promise<{ store: S3SnapshotStore; bucket: string; dir: string; keys: () => Promise<string[]> }> {
  const bucket = await freshBucket(t, client);
  const store = await S3SnapshotStore.at({ client, bucket, prefix: 'p' });
  const dir = t.testdir();
  for (const index of [1, 2]) {
    const file = path.join(dir, `snap-${index}.snap`);
    await writeSnapshot([{ key: 'k', value: `value ${index}` }], file, { meta: { index }, createdAt: Date.UTC(2026, 0, index) });
    await store.upload(file);
  }
  const keys = async (): Promise<string[]> =>
    ((await client.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key!).sort();
  return { store, bucket, dir, keys };
}

t.test('objects that are not snapshots, or have bad names: reported and skipped', async (t) => {
  const { store, bucket, dir } = await storeWithTwo(t);
  const good = fs.readFileSync(path.join(dir, 'snap-1.snap'));
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'p/bad id!.snap', Body: good }));
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'p/-dash.snap', Body: good }));
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'p/notasnap.snap', Body: 'some text that is not a snapshot at all, but long enough' }));
  t.same((await store.list()).map((s) => s.id), ['snap-2', 'snap-1']);
  t.same(store.problems.map((p) => [p.path, p.code]).sort(), [
    ['p/-dash.snap', 'SNAP_ERR_INVALID_ARGUMENT'],
    ['p/bad id!.snap', 'SNAP_ERR_INVALID_ARGUMENT'],
    ['p/notasnap.snap', 'SNAP_ERR_FORMAT'],
  ]);
  const verified = await store.verifyAll();
  t.same(verified.ok, ['snap-2', 'snap-1']);
  t.same(verified.corrupt, []);
  t.equal(verified.problems.length, 3);
  const live: SnapshotMap = new Map();
  t.equal((await store.restore(mapApplier(live))).snapshot.id, 'snap-2');
  t.equal(live.get('k'), 'value 2');
});

t.test('a codec that cannot run: nothing moved aside', async (t) => {
  const { store, keys } = await storeWithTwo(t);
  const before = await keys();
  const pool = sharedPool();
  // Once the first thread the creates started is ready: while it starts, frames are decoded on
  // this thread (block-codec.ts; a read of small entries uses only that thread), which the
  // injection does not reach.
  await pool.whenReady(1);
  const run = pool.run;
  pool.run = () => Promise.reject(new Error('worker cannot start (injected)'));
  t.teardown(() => void (pool.run = run));
  const verified = await store.verifyAll();
  t.same(verified.ok, []);
  t.same(verified.corrupt, [], 'not taken for damage');
  t.same(verified.failed.map((f) => [f.id, (f.error as { code?: string }).code]), [['snap-2', 'SNAP_ERR_CODEC'], ['snap-1', 'SNAP_ERR_CODEC']]);
  await t.rejects(store.restore(mapApplier(new Map())), { code: 'SNAP_ERR_CODEC' });
  t.same(await keys(), before, 'every object in place, none under corrupt/');
  pool.run = run;
  t.same((await store.verifyAll()).ok, ['snap-2', 'snap-1']);
});

t.test('a download does not write through a link at its partial', async (t) => {
  const { store, dir } = await storeWithTwo(t);
  const victim = path.join(dir, 'victim.txt');
  fs.writeFileSync(victim, 'victim\n');
  const file = path.join(dir, 'down.snap');
  fs.symlinkSync(victim, `${file}.partial`);
  // With the record of the very object beside it, the link looks like a download to continue.
  fs.writeFileSync(`${file}.partial.json`, JSON.stringify({ etag: (await store.get('snap-2'))!.etag }));
  await store.download('snap-2', file);
  t.equal(fs.readFileSync(victim, 'utf8'), 'victim\n');
  t.ok(fs.lstatSync(file).isFile());
  t.ok(fs.readFileSync(file).equals(fs.readFileSync(path.join(dir, 'snap-2.snap'))));
});
