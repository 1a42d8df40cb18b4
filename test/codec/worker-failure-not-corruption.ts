/**
 * A zstd worker that cannot start, or that dies, is an environment failure, never corruption:
 * compressing and decompressing (a valid stream) fail with SNAP_ERR_CODEC marked `environment`,
 * for which isCorruptionError is false, so that nothing takes healthy bytes for damaged ones;
 * and the process neither crashes nor hangs. readSnapshot, which decodes its first blocks on the
 * main thread while its worker thread starts, fails the same way once that thread has failed,
 * rather than starting another thread for every block. Before, the same CodecError counted as corruption
 * (and a store moved every good snapshot aside). Runs the built package in child processes
 * whose preload breaks the worker threads.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { CodecError, isCorruptionError, writeSnapshot } from '../../lib/index.js';
import { distProblem, root } from '../fixtures/built-dist.js';

const run = promisify(execFile);
const fixtures = path.join(root, 'test', 'codec', 'fixtures');
const dist = pathToFileURL(path.join(root, 'dist', 'index.js')).href;

/** A zstd snapshot of many blocks, written here (this process's workers run). */
const snapshot = path.join(t.testdir(), 'many-blocks.snap');
await writeSnapshot(
  Array.from({ length: 20_000 }, (_, i) => ({ key: `key-${i}`, value: `value ${i} `.repeat(1 + (i % 5)) })),
  snapshot,
  { codec: 'zstd', blockSize: 16 * 1024 },
);

async function failures(flags: string[], withoutNodeOptions = false) {
  const args = [...flags, path.join(fixtures, 'codec-failure.mjs'), dist, snapshot];
  // tap's coverage preload comes in NODE_OPTIONS, which tap adds to every child process it sees
  // spawned; a shell in between can still drop it.
  const { stdout } = withoutNodeOptions
    ? await run('/bin/sh', ['-c', 'unset NODE_OPTIONS; exec "$0" "$@"', process.execPath, ...args], { cwd: root, timeout: 120_000 })
    : await run(process.execPath, args, { cwd: root, timeout: 120_000 });
  return JSON.parse(stdout) as Record<'compress' | 'decompress' | 'read', unknown>;
}

const preload = (file: string) => [`--import=${pathToFileURL(path.join(fixtures, file)).href}`];

const environmentFailure = { code: 'SNAP_ERR_CODEC', environment: true, corruption: false };

t.test('dist is built from the current sources', async (t) => {
  t.equal(distProblem(), null);
});

t.test('no worker thread can start: each fails as it starts', async (t) => {
  t.same(await failures(preload('no-worker-threads.mjs')), { compress: environmentFailure, decompress: environmentFailure, read: environmentFailure });
});

t.test('no worker thread may be created: the permission model without --allow-worker', async (t) => {
  // new Worker() itself throws (ERR_ACCESS_DENIED). The flag is --experimental-permission on Node 20.
  const permission = process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';
  const flags = [permission, '--allow-fs-read=*', '--allow-addons'];
  // Without tap's NODE_OPTIONS: its coverage preload needs what the permission model denies.
  t.same(await failures(flags, true), { compress: environmentFailure, decompress: environmentFailure, read: environmentFailure });
});

t.test('every worker thread dies on its first job', async (t) => {
  const { read, ...rest } = await failures(preload('worker-dies.mjs'));
  t.same(rest, { compress: environmentFailure, decompress: environmentFailure });
  // The threads start (and say they are ready) before they die: a read whose blocks were all
  // decoded here before the first was ready gave its worker no job, so it ends whole (seen under
  // Node 24); one that gave it a block fails as the environment. Never as corruption.
  t.ok(JSON.stringify(read) === JSON.stringify({ ok: true }) || JSON.stringify(read) === JSON.stringify(environmentFailure), `read: ${JSON.stringify(read)}`);
});

t.test('isCorruptionError: a codec error is never corruption by itself (damage shows as the frame CRC failing)', async (t) => {
  t.equal(isCorruptionError(new CodecError('zstd failed: Data corruption detected')), false);
  t.equal(isCorruptionError(new CodecError('zstd worker could not start', { environment: true })), false);
  t.equal(new CodecError('x').environment, false);
});
