/**
 * The zstd worker threads start under whatever Node options the process was given: workers are
 * started with the process's options less those a worker refuses (per-process and V8 options,
 * which act process-wide anyway) and less those that only describe how the main script was
 * given (`--input-type`, `-e`). Each case runs a real child process (the built package, or the
 * sources under a TypeScript loader) that compresses and decompresses with zstd on the workers;
 * before, each failed every compression with SNAP_ERR_CODEC ("Initiated Worker with invalid
 * execArgv flags"). Preloads (--require, --import, a TypeScript loader) still run in the workers.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { refusedOptions, withoutOptions, workerExecArgv } from '../../lib/codec/worker-pool.js';
import { distProblem, root } from '../fixtures/built-dist.js';

const run = promisify(execFile);
const fixtures = path.join(root, 'test', 'codec', 'fixtures');
const roundTrip = path.join(fixtures, 'round-trip.mjs');
const markCjs = path.join(fixtures, 'mark-workers.cjs');
const markMjs = pathToFileURL(path.join(fixtures, 'mark-workers.mjs')).href;
const dist = pathToFileURL(path.join(root, 'dist', 'index.js')).href;
const sources = pathToFileURL(path.join(root, 'lib', 'index.ts')).href;
const tsLoader = process.execArgv.filter((a) => a.includes('@tapjs/typescript'));

/**
 * Runs the round trip in `node ...flags`; resolves with its output and the preload marks its
 * workers left. The child runs without tap's coverage preload, which tap puts in the NODE_OPTIONS
 * of every child process it sees spawned (a shell in between drops it): with
 * --abort-on-uncaught-exception, its exit hook running in a worker thread that Node terminates at
 * exit aborts the process, on every Node version, snapstream or not.
 */
async function roundTripUnder(t: typeof import('tap').default, flags: string[], options: { module?: string; nodeOptions?: string; args?: string[] } = {}) {
  const mark = path.join(t.testdir(), 'marks');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SNAP_TEST_MARK: mark,
    SNAP_TEST_MODULE: options.module ?? dist,
    SNAP_TEST_NODE_OPTIONS: options.nodeOptions ?? '',
  };
  const shell = 'if [ -n "$SNAP_TEST_NODE_OPTIONS" ]; then export NODE_OPTIONS="$SNAP_TEST_NODE_OPTIONS"; else unset NODE_OPTIONS; fi; exec "$0" "$@"';
  const args = [...flags, ...(options.args ?? [roundTrip, options.module ?? dist])];
  const { stdout } = await run('/bin/sh', ['-c', shell, process.execPath, ...args], { cwd: root, env, timeout: 120_000 });
  const marks = fs.existsSync(mark) ? fs.readFileSync(mark, 'utf8').trim().split('\n') : [];
  return { stdout, marks };
}

t.test('dist is built from the current sources', async (t) => {
  t.equal(distProblem(), null);
});

for (const flags of [
  ['--max-old-space-size=4096'],
  ['--expose-gc'],
  ['--stack-size=2000'],
  ['--abort-on-uncaught-exception'],
  ['--max-semi-space-size=16', '--jitless', '--zero-fill-buffers'],
]) {
  t.test(`node ${flags.join(' ')}`, async (t) => {
    const { stdout } = await roundTripUnder(t, flags);
    t.equal(stdout.trim(), 'round trip ok');
  });
}

t.test('node --inspect=0 --expose-gc: the inspector is no obstacle', async (t) => {
  const { stdout } = await roundTripUnder(t, ['--inspect=0', '--expose-gc']);
  t.equal(stdout.trim(), 'round trip ok');
});

t.test('node --require preload --max-old-space-size=4096: the preload runs in the workers', async (t) => {
  const { stdout, marks } = await roundTripUnder(t, ['--require', markCjs, '--max-old-space-size=4096']);
  t.equal(stdout.trim(), 'round trip ok');
  t.ok(marks.length > 0 && marks.every((m) => m.startsWith('require ')), `preload ran in ${marks.length} worker(s)`);
});

t.test('node --stack-size=2000 --import module: the module runs in the workers', async (t) => {
  const { stdout, marks } = await roundTripUnder(t, ['--stack-size=2000', `--import=${markMjs}`]);
  t.equal(stdout.trim(), 'round trip ok');
  t.ok(marks.length > 0 && marks.every((m) => m.startsWith('import ')), `module ran in ${marks.length} worker(s)`);
});

t.test('node --title NAME --import module: a refused option given as two entries leaves no stray value', async (t) => {
  // Left behind, "NAME" would end the worker's options, and the --import after it would be lost.
  const { stdout, marks } = await roundTripUnder(t, ['--title', 'snapstream-test', '--import', markMjs]);
  t.equal(stdout.trim(), 'round trip ok');
  t.ok(marks.length > 0, 'the --import after it still ran in the workers');
});

t.test('the sources under a TypeScript loader (tap\'s) with --expose-gc: the worker is TypeScript too', async (t) => {
  t.ok(tsLoader.length > 0, 'tap gave this process its TypeScript loader');
  const { stdout } = await roundTripUnder(t, [...tsLoader, '--expose-gc'], { module: sources });
  t.equal(stdout.trim(), 'round trip ok');
});

t.test('NODE_OPTIONS with refused options and preloads, and more on the command line', async (t) => {
  // Node re-parses NODE_OPTIONS for a worker itself and ignores what a worker cannot take: alone,
  // these never failed; with an option on the command line they come to the worker together.
  for (const nodeOptions of [
    '--max-old-space-size=4096 --abort-on-uncaught-exception',
    `--expose-gc --require ${markCjs}`,
    `--zero-fill-buffers --import ${markMjs}`,
    `--max-old-space-size=4096 --import ${markMjs}`,
  ]) {
    const { stdout, marks } = await roundTripUnder(t, ['--expose-gc'], { nodeOptions });
    t.equal(stdout.trim(), 'round trip ok', `NODE_OPTIONS=${nodeOptions} node --expose-gc`);
    if (nodeOptions.includes('mark-workers')) t.ok(marks.length > 0, 'its preload ran in the workers');
  }
});

t.test('under node --test (whose test processes, on Node 24 and later, carry per-process options)', async (t) => {
  const { stdout } = await roundTripUnder(t, ['--test', '--test-reporter=tap'], { args: [roundTrip] });
  t.match(stdout, /^# pass 1$/m, 'the round trip passed as a test');
});

t.test('compressing from an --input-type=module -e script, with --max-old-space-size', async (t) => {
  const script = `
    import { createCompressor, createDecompressor } from ${JSON.stringify(dist)};
    import { pipeline } from 'node:stream/promises';
    import { Readable } from 'node:stream';
    const input = Buffer.from('snapshot '.repeat(300000));
    const out = [];
    await pipeline(Readable.from([input]), createCompressor({ codec: 'zstd' }), createDecompressor(), async function* (s) { for await (const c of s) out.push(c); });
    console.log(Buffer.concat(out).equals(input) ? 'round trip ok' : 'mismatch');
  `;
  for (const flags of [['--input-type=module'], ['--max-old-space-size=4096', '--input-type', 'module']]) {
    const { stdout } = await roundTripUnder(t, flags, { args: ['-e', script] });
    t.equal(stdout.trim(), 'round trip ok', flags.join(' '));
  }
});

t.test('which options a worker is given', async (t) => {
  t.same(workerExecArgv(['--input-type=module', '-e', 'x', '--no-warnings']), ['--no-warnings'], 'how the main script was given is dropped');
  t.same(workerExecArgv(['--input-type', 'module', '--eval', 'x', '-p', 'y', '--print=z', '-r', 'a']), ['-r', 'a']);
  const refusal = Object.assign(new Error('Initiated Worker with invalid execArgv flags: --expose-gc, --title'), { code: 'ERR_WORKER_INVALID_EXEC_ARGV' });
  const argv = ['--import', '/x/--expose-gc, --title/y.mjs', '--expose-gc', '--title', 'app'];
  t.same(refusedOptions(refusal, argv), ['--expose-gc', '--title'], 'whole entries of the list only');
  t.same(withoutOptions(argv, ['--expose-gc', '--title']), ['--import', '/x/--expose-gc, --title/y.mjs'], 'and a separate value goes with its option');
  t.same(refusedOptions(new Error('other'), argv), [], 'no other error names options');
  t.same(refusedOptions(Object.assign(new Error('no list'), { code: 'ERR_WORKER_INVALID_EXEC_ARGV' }), argv), []);
});
