/**
 * One bad file never makes a store unopenable: a name that is no snapshot id (`bad id!.snap`,
 * `-dash.snap`), a directory or a link under a snapshot's name, a file that is not a snapshot, a
 * directory under a partial's name, a malformed or unreadable `store.json`, an unreadable
 * snapshot file. Each is reported in `problems` (path and typed code) and skipped; every good
 * snapshot stays listed, verifiable and restorable. Unreadability is injected (the tests run as
 * root, for whom permissions do not stop a read): the store's open of that one path fails with
 * EACCES.
 */
import t from 'tap';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { mapApplier, mapSource, DirectorySnapshotStore, type SnapshotMap, type StoreProblem } from '../../lib/index.js';

type Test = typeof t;

/** A store with two good snapshots (index 1 and 2), closed; returns its directory and the ids. */
async function twoSnapshots(dir: string): Promise<{ dir: string; older: string; newer: string }> {
  const store = await DirectorySnapshotStore.at(dir);
  const older = await store.create(mapSource(new Map([['k', 'one']])), { index: 1 });
  const newer = await store.create(mapSource(new Map([['k', 'two'], ['l', 'two']])), { index: 2 });
  await store.close();
  return { dir, older: older.id, newer: newer.id };
}

const summary = (problems: StoreProblem[]): [string, string][] =>
  problems.map((p): [string, string] => [path.basename(p.path), p.code]).sort((a, b) => (a[0] < b[0] ? -1 : 1));

/** Makes every open of `file` (callback, stream and promise APIs) fail with EACCES until the test ends. */
function unreadable(t: Test, file: string): void {
  const fail = (): NodeJS.ErrnoException => Object.assign(new Error(`EACCES: permission denied, open '${file}'`), { code: 'EACCES', errno: -13, syscall: 'open', path: file });
  const open = fs.open;
  const popen = fsp.open;
  const readFile = fsp.readFile;
  (fs as { open: unknown }).open = (p: fs.PathLike, ...rest: unknown[]) => {
    if (p === file) return void process.nextTick(rest[rest.length - 1] as (e: Error) => void, fail());
    return (open as (...a: unknown[]) => void)(p, ...rest);
  };
  (fsp as { open: unknown }).open = async (p: fs.PathLike, ...rest: unknown[]) => {
    if (p === file) throw fail();
    return (popen as (...a: unknown[]) => unknown)(p, ...rest);
  };
  (fsp as { readFile: unknown }).readFile = async (p: fs.PathLike, ...rest: unknown[]) => {
    if (p === file) throw fail();
    return (readFile as (...a: unknown[]) => unknown)(p, ...rest);
  };
  t.teardown(() => {
    (fs as { open: unknown }).open = open;
    (fsp as { open: unknown }).open = popen;
    (fsp as { readFile: unknown }).readFile = readFile;
  });
}

async function restoredValue(t: Test, store: DirectorySnapshotStore): Promise<string | undefined> {
  const live: SnapshotMap = new Map();
  const result = await store.restore(mapApplier(live));
  t.same(result.corrupt, [], 'nothing was taken for damage');
  return String(live.get('k'));
}

t.test('a bad file of every kind: each reported and skipped, every good snapshot served', async (t) => {
  const { dir, older, newer } = await twoSnapshots(t.testdir());
  const good = fs.readFileSync(path.join(dir, `${older}.snap`));
  fs.writeFileSync(path.join(dir, 'bad id!.snap'), good);
  fs.writeFileSync(path.join(dir, '-dash.snap'), good);
  fs.mkdirSync(path.join(dir, 'adir.snap'));
  fs.writeFileSync(path.join(dir, 'notasnap.snap'), 'just some text, not a snapshot\n');
  fs.symlinkSync(path.join(dir, `${older}.snap`), path.join(dir, 'alink.snap'));
  fs.mkdirSync(path.join(dir, 'pdir.snap.partial'));

  const store = await DirectorySnapshotStore.at(dir);
  t.teardown(() => store.close());
  t.same((await store.list()).map((s) => s.id), [newer, older], 'every good snapshot is listed');
  t.same(summary(store.problems), [
    ['-dash.snap', 'SNAP_ERR_INVALID_ARGUMENT'],
    ['adir.snap', 'SNAP_ERR_IO'],
    ['alink.snap', 'SNAP_ERR_IO'],
    ['bad id!.snap', 'SNAP_ERR_INVALID_ARGUMENT'],
    ['notasnap.snap', 'SNAP_ERR_FORMAT'],
    ['pdir.snap.partial', 'SNAP_ERR_IO'],
  ]);
  for (const p of store.problems) t.ok(p.error.code === p.code && p.message.length > 0, `${path.basename(p.path)}: typed, with a message`);
  t.match(store.problems.find((p) => p.path.endsWith('notasnap.snap'))!.message, /moved aside/);
  t.ok(fs.existsSync(path.join(dir, 'bad id!.snap')) && fs.existsSync(path.join(dir, 'adir.snap')), 'what is skipped is left in place');
  t.ok(fs.readFileSync(path.join(dir, `${older}.snap`)).equals(good), 'the link target is untouched');

  const verified = await store.verifyAll();
  t.same(verified.ok, [newer, older], 'every good snapshot verifies');
  t.same(verified.corrupt, []);
  t.same(verified.failed, []);
  t.equal(verified.problems.length, 6, 'the problems come with the result');
  t.equal(await restoredValue(t, store), 'two', 'and the newest restores');
  const saved = JSON.parse(fs.readFileSync(path.join(dir, 'store.json'), 'utf8')) as { snapshots: { id: string }[] };
  t.same(saved.snapshots.map((s) => s.id), [newer, older]);
});

t.test('malformed store.json: its bad entries reported, the list rebuilt from the files', async (t) => {
  for (const [what, text] of [
    ['a null entry', '{"version":1,"snapshots":[null]}'],
    ['an entry without fields', '{"version":1,"snapshots":[{"id":"x"}]}'],
    ['an entry with a bad id', '{"version":1,"snapshots":[{"id":"../up","createdAt":1,"size":1,"entries":1,"rawBytes":1,"codec":"zstd","meta":{}}]}'],
    ['no list', '{"version":1,"snapshots":5}'],
    ['null', 'null'],
    ['not JSON', '{"version":1,"snaps'],
  ] as const) {
    const { dir, older, newer } = await twoSnapshots(path.join(t.testdir(), what.replace(/\W/g, '-')));
    fs.writeFileSync(path.join(dir, 'store.json'), text);
    const store = await DirectorySnapshotStore.at(dir);
    t.same((await store.list()).map((s) => s.id), [newer, older], `${what}: both snapshots listed`);
    t.same(summary(store.problems), [['store.json', 'SNAP_ERR_FORMAT']], `${what}: reported`);
    t.equal(await restoredValue(t, store), 'two');
    await store.close();
    const again = await DirectorySnapshotStore.at(dir);
    t.same(again.problems, [], `${what}: the rebuilt list is whole`);
    await again.close();
  }
});

t.test('store.json a directory: reported, and the store still serves its snapshots', async (t) => {
  const { dir, older, newer } = await twoSnapshots(t.testdir());
  fs.rmSync(path.join(dir, 'store.json'));
  fs.mkdirSync(path.join(dir, 'store.json'));
  const store = await DirectorySnapshotStore.at(dir);
  t.teardown(() => store.close());
  t.same((await store.list()).map((s) => s.id), [newer, older]);
  t.ok(store.problems.length >= 1 && store.problems.every((p) => p.code === 'SNAP_ERR_IO' && p.path.endsWith('store.json')));
  t.same((await store.verifyAll()).ok, [newer, older]);
  t.equal(await restoredValue(t, store), 'two');
});

t.test('an unreadable store.json: reported, the list rebuilt', async (t) => {
  const { dir, older, newer } = await twoSnapshots(t.testdir());
  unreadable(t, path.join(dir, 'store.json'));
  const store = await DirectorySnapshotStore.at(dir);
  t.teardown(() => store.close());
  t.same((await store.list()).map((s) => s.id), [newer, older]);
  t.same(summary(store.problems), [['store.json', 'SNAP_ERR_IO']]);
  t.match(store.problems[0]!.message, /EACCES/);
});

t.test('an unreadable snapshot file: not corruption, left in place', async (t) => {
  const { dir, older, newer } = await twoSnapshots(t.testdir());
  const file = path.join(dir, `${newer}.snap`);
  const bytes = fs.readFileSync(file);

  t.test('listed: verify reports it as failed, restore as an I/O error', async (t) => {
    const store = await DirectorySnapshotStore.at(dir);
    t.teardown(() => store.close());
    unreadable(t, file);
    const verified = await store.verifyAll();
    t.same(verified.ok, [older]);
    t.same(verified.corrupt, [], 'not taken for damage');
    t.same(verified.failed.map((f) => [f.id, (f.error as { code?: string }).code]), [[newer, 'SNAP_ERR_IO']]);
    const live: SnapshotMap = new Map([['k', 'live']]);
    await t.rejects(store.restore(mapApplier(live)), { code: 'SNAP_ERR_IO' }, 'restore stops at an environment failure');
    t.equal(live.get('k'), 'live', 'the live state is untouched');
    t.same((await store.list()).map((s) => s.id), [newer, older], 'still listed');
    t.ok(fs.readFileSync(file).equals(bytes), 'the file is in place, unchanged');
    t.notOk(fs.existsSync(path.join(dir, 'corrupt')), 'nothing moved aside');
  });

  t.test('unknown to the list at opening: reported and skipped, left in place', async (t) => {
    fs.rmSync(path.join(dir, 'store.json'));
    unreadable(t, file);
    const store = await DirectorySnapshotStore.at(dir);
    t.teardown(() => store.close());
    t.same((await store.list()).map((s) => s.id), [older]);
    t.same(store.problems.map((p) => [p.id, p.code]), [[newer, 'SNAP_ERR_IO']]);
    t.ok(fs.readFileSync(file).equals(bytes));
    t.equal(await restoredValue(t, store), 'one');
  });
});
