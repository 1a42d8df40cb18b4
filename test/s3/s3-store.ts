/**
 * The snapshot store on a bucket prefix, against a real server: snapshots uploaded from files
 * and created from entries are listed newest first; a corrupted newest snapshot makes restore
 * fall back to the older one (the damaged object moved aside under corrupt/); a truncated object
 * fails verification with a typed error and is left out of the list; prune keeps the newest by
 * the disk store's rules; a download continues its partial file (only one of the same object)
 * and verifies.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { mapApplier, mapSource, S3SnapshotStore, writeSnapshot, type SnapshotMap } from '../../lib/index.js';
import { freshBucket, getObject, testClient } from './fixtures/s3-env.js';

const client = testClient();
/** The Range of every GetObject request, in order ('' for a whole object). */
const ranges: string[] = [];
/** Every DeleteObject request: its key and the ETag it is conditional on. */
const deletes: { key: string; ifMatch?: string }[] = [];
client.middlewareStack.add(
  (next, context) => async (args) => {
    const input = args.input as { Key?: string; Range?: string; IfMatch?: string };
    if (context.commandName === 'GetObjectCommand') ranges.push(input.Range ?? '');
    if (context.commandName === 'DeleteObjectCommand') deletes.push({ key: input.Key!, ...(input.IfMatch ? { ifMatch: input.IfMatch } : {}) });
    return next(args);
  },
  { step: 'initialize' },
);
const HOUR = 3_600_000;
const base = Date.UTC(2026, 10, 1);

function entriesFor(index: number, n: number): SnapshotMap {
  const map: SnapshotMap = new Map();
  for (let i = 0; i < n; i++) map.set(`k${i}`, `value ${i} of snapshot ${index} ${'x'.repeat(200)}`);
  return map;
}

/** Three snapshot files, an hour apart, index 1..3. */
async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const index of [1, 2, 3]) {
    const file = path.join(dir, `snap-${index}.snap`);
    await writeSnapshot([...entriesFor(index, 20_000)].map(([key, value]) => ({ key, value: value as string })), file, { meta: { index, term: 1 }, createdAt: base + index * HOUR });
    out.push(file);
  }
  return out;
}

async function storeWithThree(t: Parameters<Parameters<typeof t.test>[1]>[0]): Promise<{ store: S3SnapshotStore; bucket: string; paths: string[]; dir: string }> {
  const bucket = await freshBucket(t, client);
  const store = await S3SnapshotStore.at({ client, bucket, prefix: 'cache-1' });
  const dir = t.testdir(); // (a second call would empty it)
  const paths = await files(dir);
  for (const f of paths) await store.upload(f);
  return { store, bucket, paths, dir };
}

t.test('uploaded snapshots list newest first, with their metadata', async (t) => {
  const { store } = await storeWithThree(t);
  const list = await store.list();
  t.same(list.map((s) => s.id), ['snap-3', 'snap-2', 'snap-1']);
  t.same(list.map((s) => s.index), [3, 2, 1]);
  t.equal(list[0]!.entries, 20_000);
  t.equal(list[0]!.key, 'cache-1/snap-3.snap');
  t.equal((await store.latest())?.id, 'snap-3');
  await store.verify('snap-2');
});

t.test('a corrupted newest snapshot: restore falls back to the older one', async (t) => {
  const { store, bucket, paths } = await storeWithThree(t);
  const bad = fs.readFileSync(paths[2]!);
  bad[Math.floor(bad.length / 2)] ^= 0x40;
  const { ETag: badEtag } = await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'cache-1/snap-3.snap', Body: bad }));
  deletes.length = 0;
  const corrupt: string[] = [];
  store.on('corrupt', (c: { id: string }) => corrupt.push(c.id));
  const map: SnapshotMap = new Map();
  const result = await store.restore(mapApplier(map));
  t.equal(result.snapshot.id, 'snap-2');
  t.same(result.corrupt, ['snap-3']);
  t.same(corrupt, ['snap-3']);
  t.equal(map.size, 20_000);
  t.equal(map.get('k7'), entriesFor(2, 8).get('k7'), 'the entries are the older snapshot\'s');
  const aside = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'cache-1/corrupt/' }));
  t.equal(aside.Contents?.length, 1, 'the damaged object was moved aside');
  // Deleted only as the object that failed (a server that honours If-Match keeps a replacement).
  t.same(deletes, [{ key: 'cache-1/snap-3.snap', ifMatch: badEtag }]);
  t.same((await store.list()).map((s) => s.id), ['snap-2', 'snap-1']);
});

t.test('a truncated object fails verification with a typed error and is not listed', async (t) => {
  const { store, bucket, paths } = await storeWithThree(t);
  const whole = fs.readFileSync(paths[1]!);
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'cache-1/cut.snap', Body: whole.subarray(0, whole.length - 777) }));
  await t.rejects(store.verify('cut'), { code: /SNAP_ERR_(TRUNCATED|FORMAT)/ });
  const unreadable: string[] = [];
  store.on('unreadable', (u: { id: string }) => unreadable.push(u.id));
  t.same((await store.list()).map((s) => s.id), ['snap-3', 'snap-2', 'snap-1']);
  t.same(unreadable, ['cut']);
  const all = await store.verifyAll();
  t.same(all.ok, ['snap-3', 'snap-2', 'snap-1']);
});

t.test('prune applies the retention rules and keeps the newest', async (t) => {
  const { store } = await storeWithThree(t);
  t.same(await store.prune({ maxSnapshots: 2 }, base + 4 * HOUR), ['snap-1']);
  t.same(await store.prune({ maxAgeMs: 1 }, base + 10 * HOUR), ['snap-2'], 'the newest is kept even when too old');
  t.same((await store.list()).map((s) => s.id), ['snap-3']);
  await store.delete('snap-3');
  t.same(await store.list(), []);
  await t.rejects(store.delete('snap-3'), { code: 'SNAP_ERR_NOT_FOUND' });
  await t.rejects(store.restore(mapApplier(new Map())), { code: 'SNAP_ERR_NOT_FOUND' });
});

t.test('download continues a partial of the same object, verifies and installs it', async (t) => {
  const { store, paths, dir } = await storeWithThree(t);
  const target = path.join(dir, 'restored.snap');
  const want = fs.readFileSync(paths[0]!);
  const { etag } = (await store.get('snap-1'))!;
  // What an interrupted download of this object left: its first bytes, and which object it was.
  fs.writeFileSync(`${target}.partial`, want.subarray(0, 10_000));
  fs.writeFileSync(`${target}.partial.json`, JSON.stringify({ etag }));
  ranges.length = 0;
  const verified = await store.download('snap-1', target);
  t.same(ranges, ['bytes=10000-'], 'asked only for the rest');
  t.equal(verified.bytes, want.length);
  t.ok(fs.readFileSync(target).equals(want));
  t.notOk(fs.existsSync(`${target}.partial`));
  t.notOk(fs.existsSync(`${target}.partial.json`));
  // A partial holding wrong bytes fails verification and is removed, not installed.
  const other = path.join(dir, 'other.snap');
  fs.writeFileSync(`${other}.partial`, Buffer.alloc(10_000, 7));
  fs.writeFileSync(`${other}.partial.json`, JSON.stringify({ etag }));
  await t.rejects(store.download('snap-1', other), { code: /SNAP_ERR_/ });
  t.notOk(fs.existsSync(other));
  t.notOk(fs.existsSync(`${other}.partial`));
  t.notOk(fs.existsSync(`${other}.partial.json`));
});

t.test('a partial of an object since replaced, or of unknown origin, is started afresh', async (t) => {
  const { store, paths, dir } = await storeWithThree(t);
  const want = fs.readFileSync(paths[0]!);
  await store.get('snap-1'); // its header and footer read (ranged GETs) before counting
  for (const origin of [{ etag: '"0123456789abcdef0123456789abcdef"' }, null]) {
    const target = path.join(dir, `fresh-${origin ? 'replaced' : 'unknown'}.snap`);
    // The first bytes of another snapshot: continuing them with this object's would not verify.
    fs.writeFileSync(`${target}.partial`, fs.readFileSync(paths[2]!).subarray(0, 10_000));
    if (origin) fs.writeFileSync(`${target}.partial.json`, JSON.stringify(origin));
    ranges.length = 0;
    await store.download('snap-1', target);
    t.same(ranges, [''], `${origin ? 'another object' : 'no record'}: read from the start`);
    t.ok(fs.readFileSync(target).equals(want));
    t.notOk(fs.existsSync(`${target}.partial.json`));
  }
});

t.test('create streams entries straight into the bucket', async (t) => {
  const bucket = await freshBucket(t, client);
  const store = await S3SnapshotStore.at({ client, bucket, prefix: 'direct/', partSize: 5 * 1024 * 1024 });
  const source = entriesFor(9, 50_000);
  const stored = await store.create(mapSource(source, { index: 9, term: 2 }));
  t.equal(stored.index, 9);
  t.equal(stored.entries, 50_000);
  const map: SnapshotMap = new Map();
  const result = await store.restore(mapApplier(map));
  t.equal(result.snapshot.id, stored.id);
  t.same([...map.entries()].slice(0, 5), [...source.entries()].slice(0, 5));
  t.equal(map.size, source.size);
  t.ok((await getObject(client, bucket, stored.key)).length === stored.size);
});

t.test('a missing bucket is NOT_FOUND', async (t) => {
  await t.rejects(S3SnapshotStore.at({ client, bucket: 'snapstream-nope' }), { code: 'SNAP_ERR_NOT_FOUND' });
});
