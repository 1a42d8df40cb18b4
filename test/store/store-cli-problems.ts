/**
 * The `store` commands on a store holding bad files and under a failing environment:
 *  - `store ls` prints every good snapshot, one warning line per skipped file on stderr, and the
 *    problems (path, code) with --json; exit 0;
 *  - `store verify` with a codec that cannot run (every worker job fails, injected with
 *    `--import`) reports each snapshot as not verifiable, moves nothing, exits 1 (not 3);
 *  - `store restore --to-jsonl` into a missing directory is a typed error, exit 1, no stack trace.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { mapSource, DirectorySnapshotStore } from '../../lib/index.js';
import { distProblem, root } from '../fixtures/built-dist.js';

const cli = path.join(root, 'dist', 'cli', 'main.js');

function run(args: string[], nodeArgs: string[] = []) {
  const r = spawnSync(process.execPath, [...nodeArgs, cli, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function storeWithTwo(dir: string): Promise<string[]> {
  const store = await DirectorySnapshotStore.at(dir);
  const a = await store.create(mapSource(new Map([['k', 'one']])), { index: 1 });
  const b = await store.create(mapSource(new Map([['k', 'two']])), { index: 2 });
  await store.close();
  return [b.id, a.id];
}

t.test('dist is built from the current sources', async (t) => {
  t.equal(distProblem(), null);
});

t.test('store ls: good snapshots listed, a warning per bad file', async (t) => {
  const dir = t.testdir();
  const ids = await storeWithTwo(dir);
  fs.writeFileSync(path.join(dir, 'bad id!.snap'), 'x');
  fs.writeFileSync(path.join(dir, '-dash.snap'), 'x');
  fs.mkdirSync(path.join(dir, 'adir.snap'));
  const r = run(['store', 'ls', '--dir', dir]);
  t.equal(r.code, 0, r.err);
  for (const id of ids) t.match(r.out, id);
  const warnings = r.err.trim().split('\n');
  t.equal(warnings.length, 3, 'one line per problem');
  for (const w of warnings) t.match(w, /^snapstream: warning: .*\[SNAP_ERR_[A-Z_]+\]$/);
  t.match(r.err, /bad id!\.snap/);
  t.match(r.err, /adir\.snap.*directory/);

  const j = run(['store', 'ls', '--dir', dir, '--json']);
  t.equal(j.code, 0);
  const parsed = JSON.parse(j.out) as { snapshots: { id: string }[]; problems: { path: string; code: string }[] };
  t.same(parsed.snapshots.map((s) => s.id), ids);
  t.same(parsed.problems.map((p) => [path.basename(p.path), p.code]).sort(), [
    ['-dash.snap', 'SNAP_ERR_INVALID_ARGUMENT'],
    ['adir.snap', 'SNAP_ERR_IO'],
    ['bad id!.snap', 'SNAP_ERR_INVALID_ARGUMENT'],
  ]);
  t.same(run(['store', 'verify', '--dir', dir]).code, 0, 'verify: every good snapshot ok');
});

t.test('store verify with a codec that cannot run: nothing moved, exit 1', async (t) => {
  const dir = t.testdir();
  const ids = await storeWithTwo(dir);
  const before = fs.readdirSync(dir).sort();
  const inject = path.join(dir, '..', `${path.basename(dir)}-inject.mjs`);
  fs.writeFileSync(
    inject,
    `import { sharedPool } from ${JSON.stringify(pathToFileURL(path.join(root, 'dist', 'codec', 'worker-pool.js')).href)};\n` +
      `sharedPool().run = () => Promise.reject(new Error('worker cannot start (injected)'));\n` +
      // A reader starts its threads ahead of its jobs (and decodes its first blocks while they start): none can.
      `sharedPool().start = () => {};\n`,
  );
  t.teardown(() => fs.rmSync(inject, { force: true }));
  const r = run(['store', 'verify', '--dir', dir], ['--import', pathToFileURL(inject).href]);
  t.equal(r.code, 1, 'an environment failure: exit 1, not 3 (corrupt)');
  for (const id of ids) t.match(r.out, new RegExp(`${id}: could not be verified .*\\[SNAP_ERR_CODEC\\], left in place`));
  t.notMatch(r.out, /CORRUPT/);
  t.same(fs.readdirSync(dir).sort(), before, 'every file in place, no corrupt/');
  const ls = run(['store', 'ls', '--dir', dir, '--json']);
  t.same((JSON.parse(ls.out) as { snapshots: { id: string }[] }).snapshots.map((s) => s.id), ids, 'and all still listed');
  t.equal(run(['store', 'verify', '--dir', dir]).code, 0, 'with a working codec every snapshot verifies');
});

t.test('store restore --to-jsonl into a missing directory: a typed error, exit 1', async (t) => {
  const dir = t.testdir();
  await storeWithTwo(dir);
  const r = run(['store', 'restore', '--dir', dir, '--to-jsonl', '/nonexistent/out.jsonl']);
  t.equal(r.code, 1);
  t.match(r.err, /^snapstream: .*\/nonexistent\/out\.jsonl\.partial.*\[SNAP_ERR_IO\]/);
  t.notMatch(r.err, /\n\s+at /, 'no stack trace');
  t.notOk(fs.existsSync(path.join(dir, 'corrupt')), 'nothing moved aside');
});
