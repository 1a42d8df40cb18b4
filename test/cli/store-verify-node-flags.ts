/**
 * `store verify` under Node options a worker thread refuses (`node --expose-gc`) reports every
 * good snapshot good and leaves the store exactly as it was; and where the codec cannot run at
 * all (no worker thread can start) it fails without calling anything corrupt (not exit code 3)
 * and still moves nothing. Before, every good snapshot was reported CORRUPT and moved aside.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { mapSource, DirectorySnapshotStore, type SnapshotMap } from '../../lib/index.js';
import { distProblem, root } from '../fixtures/built-dist.js';

const cli = path.join(root, 'dist', 'cli', 'main.js');
const noWorkers = pathToFileURL(path.join(root, 'test', 'codec', 'fixtures', 'no-worker-threads.mjs')).href;

/** Every file under `dir` with a hash of its bytes. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, file)] = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  }
  return out;
}

async function goodStore(dir: string): Promise<string[]> {
  const store = await DirectorySnapshotStore.at(dir);
  const ids: string[] = [];
  for (let round = 0; round < 3; round++) {
    const m: SnapshotMap = new Map();
    for (let i = 0; i < 20_000; i++) m.set(`key:${i}`, `round ${round} value ${i} ${'x'.repeat(i % 80)}`);
    ids.push((await store.create(mapSource(m), { index: round + 1 })).id);
  }
  await store.close();
  return ids;
}

function verify(flags: string[], dir: string) {
  const r = spawnSync(process.execPath, [...flags, cli, 'store', 'verify', '--dir', dir], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

t.test('dist is built from the current sources', async (t) => {
  t.equal(distProblem(), null);
});

t.test('node --expose-gc: good snapshots verify, nothing moves', async (t) => {
  const dir = t.testdir();
  const ids = await goodStore(dir);
  const before = tree(dir);
  const r = verify(['--expose-gc'], dir);
  t.equal(r.code, 0, r.err);
  for (const id of ids) t.match(r.out, new RegExp(`${id}: ok`), `${id} reported good`);
  t.notMatch(r.out + r.err, /corrupt/i);
  t.same(tree(dir), before, 'the store directory is untouched');
});

t.test('no worker thread can start: a codec failure, not corruption; nothing moves', async (t) => {
  const dir = t.testdir();
  await goodStore(dir);
  const before = tree(dir);
  const r = verify([`--import=${noWorkers}`], dir);
  t.not(r.code, 0, 'the verification fails');
  t.not(r.code, 3, 'but not as corruption');
  t.match(r.out + r.err, /could not be verified .*\[SNAP_ERR_CODEC\], left in place/);
  t.notMatch(r.out + r.err, /corrupt|moved aside/i);
  t.same(tree(dir), before, 'the store directory is untouched');
});
