/**
 * store.prune() on real snapshot files: the policy's choice (the same rules as the pure
 * snapshotsToPrune table) is carried out on disk — the files go, the list and store.json follow,
 * a store opened again agrees — and the newest snapshot is never removed. Snapshots in use are
 * never removed either: one marked with store.use(id), and one whose open() stream has not
 * finished; each becomes prunable once released (the use counted, the stream closed). delete()
 * of a snapshot in use is SNAP_ERR_BUSY.
 */
import t, { type Test } from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { snapshotsToPrune, DirectorySnapshotStore, writeSnapshot, type Entry, type RetentionPolicy } from '../../lib/index.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x00d81998);

const NOW = Date.now() + 60_000;
const UNIT = 100; // entries of ~1000 incompressible bytes: about 100 KB
// id, age (ms before NOW), entries — as the pure table's fixture, in file sizes instead of bytes.
const FIXTURE: [string, number, number][] = [
  ['s0', 0, UNIT],
  ['s1', 10, UNIT],
  ['s2', 15, UNIT], // 5 ms after s1
  ['s3', 40, 3.3 * UNIT], // large
  ['s4', 60, UNIT],
  ['s5', 62, UNIT], // 2 ms after s4
  ['s6', 100, UNIT],
  ['s7', 200, 5 * UNIT],
];

function entries(n: number, seed: string): Entry[] {
  return Array.from({ length: n }, (_, i) => ({ key: `${seed}:${i}`, value: randomBytes(1000) }));
}

/** A directory of real snapshot files with chosen creation times, made once and copied per test. */
async function template(dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  for (const [id, age, n] of FIXTURE) {
    await writeSnapshot(entries(Math.round(n), id), path.join(dir, `${id}.snap`), {
      createdAt: NOW - age,
      meta: { index: 1000 - age },
      blockSize: 64 * 1024,
    });
  }
}

const sizes = new Map<string, number>();
let templateDir = '';

t.before(async () => {
  templateDir = t.testdir();
  await template(path.join(templateDir, 'template'));
  for (const [id] of FIXTURE) sizes.set(id, fs.statSync(path.join(templateDir, 'template', `${id}.snap`)).size);
});

async function openCopy(t: Test): Promise<{ dir: string; store: DirectorySnapshotStore }> {
  const dir = path.join(t.testdir(), 'store');
  fs.cpSync(path.join(templateDir, 'template'), dir, { recursive: true });
  const store = await DirectorySnapshotStore.at(dir);
  t.teardown(() => store.close());
  return { dir, store };
}

const onDisk = (dir: string): string[] =>
  fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.snap'))
    .map((n) => n.slice(0, -5))
    .sort();

t.test('the policy is carried out on the files, the list and store.json', async (t) => {
  const D = ['s0', 's1', 's2', 's4', 's5'].reduce((sum, id) => sum + sizes.get(id)!, 0);
  const A = { maxSnapshots: 4 };
  const B = { maxAgeMs: 70 };
  const C = { minIntervalMs: 10 };
  const rows: [string, RetentionPolicy, string[]][] = [
    ['maxSnapshots', A, ['s4', 's5', 's6', 's7']],
    ['maxAgeMs', B, ['s6', 's7']],
    ['minIntervalMs', C, ['s2', 's5']],
    // s0+s1+s2 then s3 (3.3 units) is over; s4 and s5 fit exactly; s6 and s7 do not.
    ['maxTotalBytes', { maxTotalBytes: D }, ['s3', 's6', 's7']],
    ['maxSnapshots + maxAgeMs + minIntervalMs', { ...A, ...B, ...C }, ['s2', 's5', 's6', 's7']],
    // s2 too close, s3 too large (2 + 3.3 units), s4 kept, s5 too close to it, s6 and s7 too old.
    ['all four', { ...A, ...B, ...C, maxTotalBytes: D }, ['s2', 's3', 's5', 's6', 's7']],
    ['harshest: only the newest stays', { maxSnapshots: 0, maxAgeMs: 0, maxTotalBytes: 0 }, ['s1', 's2', 's3', 's4', 's5', 's6', 's7']],
  ];
  for (const [name, policy, expected] of rows) {
    await t.test(name, async (t) => {
      const { dir, store } = await openCopy(t);
      t.equal((await store.list()).length, 8, 'all eight adopted');
      t.same(snapshotsToPrune(await store.list(), policy, NOW), expected, 'the pure function agrees');
      const events: string[][] = [];
      store.on('pruned', (ids: string[]) => events.push(ids));
      const dropped = await store.prune(policy, NOW);
      t.same(dropped, expected, 'pruned what the policy says');
      t.same(events, [expected], "one 'pruned' event");
      const left = FIXTURE.map(([id]) => id).filter((id) => !expected.includes(id));
      t.same(onDisk(dir), left, 'exactly those files removed');
      t.same(
        (await store.list()).map((s) => s.id),
        left,
        'the list follows',
      );
      const saved = JSON.parse(fs.readFileSync(path.join(dir, 'store.json'), 'utf8')) as { snapshots: { id: string }[] };
      t.same(
        saved.snapshots.map((s) => s.id),
        left,
        'store.json follows',
      );
      t.equal((await store.latest())?.id, 's0', 'the newest is still there');
      await store.verify('s0');
      await store.close();
      const again = await DirectorySnapshotStore.at(dir);
      t.same(
        (await again.list()).map((s) => s.id),
        left,
        'a store opened again agrees',
      );
      await again.close();
    });
  }
});

t.test('the store default policy is applied by prune() without arguments', async (t) => {
  const dir = path.join(t.testdir(), 'store');
  fs.cpSync(path.join(templateDir, 'template'), dir, { recursive: true });
  const store = await DirectorySnapshotStore.at(dir, { retention: { maxSnapshots: 2 } });
  t.teardown(() => store.close());
  t.same(await store.prune(), ['s2', 's3', 's4', 's5', 's6', 's7']);
  t.same(onDisk(dir), ['s0', 's1']);
});

t.test('snapshots in use (use(), an unfinished open() stream) are never pruned or deleted', async (t) => {
  const { dir, store } = await openCopy(t);
  const policy = { maxSnapshots: 1 };

  store.use('s3');
  const reading = store.open('s5');
  const first = await new Promise<unknown>((resolve, reject) => {
    reading.once('data', (e) => {
      reading.pause();
      resolve(e);
    });
    reading.once('error', reject);
  });
  t.ok(first, 'the stream of s5 has begun and is paused, not finished');

  t.same(await store.prune(policy, NOW), ['s1', 's2', 's4', 's6', 's7'], 'everything but the newest and the two in use');
  t.same(onDisk(dir), ['s0', 's3', 's5']);
  await t.rejects(store.delete('s3'), { code: 'SNAP_ERR_BUSY' }, 'delete of a used snapshot');
  await t.rejects(store.delete('s5'), { code: 'SNAP_ERR_BUSY' }, 'delete of one being read');
  t.same(onDisk(dir), ['s0', 's3', 's5'], 'still there');

  // Used twice, released once: still in use.
  store.use('s3');
  store.release('s3');
  t.same(await store.prune(policy, NOW), [], 'nothing more while both are in use');

  // The stream finishes: s5 becomes prunable.
  let bytes = (first as Buffer).length;
  reading.on('data', (chunk: Buffer) => (bytes += chunk.length));
  const closed = new Promise((resolve) => reading.once('close', resolve));
  reading.resume();
  await closed;
  t.equal(bytes, fs.statSync(path.join(dir, 's5.snap')).size, 'read to the end');
  t.same(await store.prune(policy, NOW), ['s5'], 's5 pruned once its stream closed');

  store.release('s3');
  t.same(await store.prune(policy, NOW), ['s3'], 's3 pruned once released');
  t.same(onDisk(dir), ['s0']);

  // A stream destroyed before its end releases its snapshot too.
  const { store: other } = await openCopy(t);
  const aborted = other.open('s6');
  aborted.destroy();
  await new Promise((resolve) => aborted.once('close', resolve));
  t.ok((await other.prune(policy, NOW)).includes('s6'), 'a destroyed stream does not pin its snapshot');
});
