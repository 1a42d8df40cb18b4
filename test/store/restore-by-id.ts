/**
 * store.restore(applier, { id }) restores that snapshot and no other: an older one while newer
 * ones exist, a NOT_FOUND for an unknown id, and for a damaged one the corruption error itself —
 * no fall back to another snapshot, the applier aborted, the live state untouched, the damaged
 * file left in place. The CLI does the same with `store restore --id ID`.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { isCorruptionError, mapApplier, mapSource, DirectorySnapshotStore, type SnapshotMap } from '../../lib/index.js';
import { distProblem, root } from '../fixtures/built-dist.js';

const state = (version: number): SnapshotMap => new Map(Array.from({ length: 500 }, (_, i) => [`k${i}`, `v${i} of ${version}`] as [string, string]));

async function threeSnapshots(dir: string): Promise<DirectorySnapshotStore> {
  const store = await DirectorySnapshotStore.at(dir, { write: { codec: 'lz4' } });
  for (const v of [1, 2, 3]) await store.create(mapSource(state(v), { index: v }), undefined, { id: `v${v}` });
  return store;
}

function damage(file: string): void {
  const bytes = fs.readFileSync(file);
  bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
  fs.writeFileSync(file, bytes);
}

t.test('an older snapshot by id, and errors for a missing or damaged one', async (t) => {
  const store = await threeSnapshots(path.join(t.testdir(), 'store'));
  t.teardown(() => store.close());
  const live: SnapshotMap = new Map([['before', 'restore']]);
  const result = await store.restore(mapApplier(live), { id: 'v1' });
  t.equal(result.snapshot.id, 'v1', 'the one asked for, not the newest');
  t.same(live, state(1));
  await t.rejects(store.restore(mapApplier(live), { id: 'nope' }), { code: 'SNAP_ERR_NOT_FOUND' });

  damage(store.pathOf('v2'));
  const err = await store.restore(mapApplier(live), { id: 'v2' }).catch((e: unknown) => e);
  t.ok(isCorruptionError(err), `a corruption error: ${String((err as Error).message)}`);
  t.same(live, state(1), 'the live state is untouched: no fall back to v3 or v1');
  t.ok(fs.existsSync(store.pathOf('v2')), 'the damaged snapshot is left where it is');
  t.same((await store.list()).map((s) => s.id), ['v3', 'v2', 'v1'], 'and still listed');
});

t.test('snapstream store restore --id', async (t) => {
  t.equal(distProblem(), null, 'dist is built from the current sources');
  const work = t.testdir();
  const dir = path.join(work, 'store');
  await (await threeSnapshots(dir)).close();
  damage(path.join(dir, 'v2.snap'));
  const cli = (args: string[]) => spawnSync(process.execPath, [path.join(root, 'dist', 'cli', 'main.js'), 'store', 'restore', '--dir', dir, ...args], { encoding: 'utf8' });

  const out = path.join(work, 'v1.jsonl');
  const ok = cli(['--id', 'v1', '--to-jsonl', out]);
  t.equal(ok.status, 0, ok.stderr);
  t.match(ok.stdout, /restored v1: 500 entries/);
  t.match(fs.readFileSync(out, 'utf8'), /"v0 of 1"/);

  const bad = cli(['--id', 'v2', '--to-jsonl', path.join(work, 'v2.jsonl')]);
  t.not(bad.status, 0, 'a damaged named snapshot fails');
  t.match(bad.stderr, /SNAP_ERR_(CHECKSUM|FORMAT|TRUNCATED|CODEC)/);
  t.notMatch(bad.stdout, /restored/, 'and nothing else is restored in its place');
  t.notMatch(bad.stderr, /\n\s+at /, 'no stack trace');
});
