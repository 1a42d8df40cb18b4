/**
 * A fresh `snapstream` process loads only what the command it runs needs: `compress IN OUT`
 * loads none of the transfer, store, S3 or adapter modules, `--version` almost nothing (loading
 * and compiling each module is a fixed cost of every run, docs/BENCHMARKS.md "Data that does not
 * compress"), and on a Node with an on-disk compile cache the CLI turns it on, a failure of
 * which costs nothing but the cache.
 */
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { root } from '../fixtures/built-dist.js';
import { logModules } from '../fixtures/module-log.js';

const cli = path.join(root, 'dist', 'cli', 'main.js');

/** The built modules (paths under dist/) that `snapstream ARGS` loads. */
function modulesLoaded(t: Test, dir: string, args: string[]): string[] {
  const log = path.join(dir, 'modules.log');
  fs.writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', logModules, cli, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, SNAPSTREAM_TEST_MODULE_LOG: log },
  });
  t.equal(r.status, 0, r.stderr);
  const dist = `${path.join(root, 'dist')}/`;
  return [
    ...new Set(
      fs
        .readFileSync(log, 'utf8')
        .split('\n')
        .filter((u) => u.startsWith('file:'))
        .map((u) => new URL(u).pathname)
        .filter((p) => p.startsWith(dist))
        .map((p) => p.slice(dist.length)),
    ),
  ];
}

t.test('compress IN OUT loads no transfer, store, S3, adapter or demo module', async (t) => {
  const dir = t.testdir({ 'in.bin': Buffer.alloc(300_000, 'snapshot ') });
  const loaded = modulesLoaded(t, dir, ['compress', path.join(dir, 'in.bin'), path.join(dir, 'out.zst'), '--crc']);
  t.ok(loaded.includes('snapshot/compress-file.js'), 'the recipe it runs is loaded');
  t.same(
    loaded.filter((m) => /^(transfer|store|s3|adapters|sample)\/|^cli\/(demo|commands\/(network|store|s3|snapshot-files))\.js$/.test(m)),
    [],
    'nothing of the other commands',
  );
  t.ok(fs.statSync(path.join(dir, 'out.zst')).size > 0, 'and it compressed');
});

t.test('--version loads the dispatcher and nothing of any command', async (t) => {
  const loaded = modulesLoaded(t, t.testdir(), ['--version']);
  t.same(loaded.filter((m) => !/^(cli\/(main|args|command|exit-codes)|errors)\.js$/.test(m)), [], loaded.join(', '));
});

t.test('--help still lists every command, and each runs from its own group', async (t) => {
  const r = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 0);
  for (const name of ['encode', 'compress', 'verify', 'pack', 'inspect', 'send', 'receive', 'store ls', 's3 put', 'demo']) t.match(r.stdout, `  ${name}`);
});

t.test('the CLI turns on Node’s compile cache where Node has one, and runs when it fails', async (t) => {
  const fake = (body: string): string =>
    `data:text/javascript,${encodeURIComponent(`import m from 'node:module'; m.enableCompileCache = () => { ${body} };`)}`;
  const on = spawnSync(process.execPath, ['--import', fake("process.stderr.write('compile cache on\\n'); return { status: 0 };"), cli, '--version'], { encoding: 'utf8' });
  t.equal(on.status, 0, on.stderr);
  t.equal(on.stderr, 'compile cache on\n', 'enableCompileCache was called');
  const failing = spawnSync(process.execPath, ['--import', fake("throw new Error('no cache dir');"), cli, '--version'], { encoding: 'utf8' });
  t.equal(failing.status, 0, failing.stderr);
  t.match(failing.stdout, /^snapstream /, 'the command ran');
  t.equal(failing.stderr, '');
});
