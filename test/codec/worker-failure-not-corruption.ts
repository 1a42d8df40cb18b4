/**
 * A zstd worker that cannot start, or that dies, is an environment failure, never corruption:
 * compressing and decompressing (a valid stream) fail with SNAP_ERR_CODEC marked `environment`,
 * for which isCorruptionError is false, so that nothing takes healthy bytes for damaged ones;
 * and the process neither crashes nor hangs. Before, the same CodecError counted as corruption
 * (and a store moved every good snapshot aside). Runs the built package in child processes
 * whose preload breaks the worker threads.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { CodecError, isCorruptionError } from '../../lib/index.js';
import { distProblem, root } from '../fixtures/built-dist.js';

const run = promisify(execFile);
const fixtures = path.join(root, 'test', 'codec', 'fixtures');
const dist = pathToFileURL(path.join(root, 'dist', 'index.js')).href;

async function failures(preload: string) {
  const { stdout } = await run(process.execPath, [`--import=${pathToFileURL(path.join(fixtures, preload)).href}`, path.join(fixtures, 'codec-failure.mjs'), dist], {
    cwd: root,
    timeout: 120_000,
  });
  return JSON.parse(stdout) as Record<'compress' | 'decompress', unknown>;
}

const environmentFailure = { code: 'SNAP_ERR_CODEC', environment: true, corruption: false };

t.test('dist is built from the current sources', async (t) => {
  t.equal(distProblem(), null);
});

t.test('no worker thread can start', async (t) => {
  t.same(await failures('no-worker-threads.mjs'), { compress: environmentFailure, decompress: environmentFailure });
});

t.test('every worker thread dies on its first job', async (t) => {
  t.same(await failures('worker-dies.mjs'), { compress: environmentFailure, decompress: environmentFailure });
});

t.test('isCorruptionError: a codec that refused the bytes is, one that could not run is not', async (t) => {
  t.equal(isCorruptionError(new CodecError('zstd failed: Data corruption detected')), true);
  t.equal(isCorruptionError(new CodecError('zstd worker could not start', { environment: true })), false);
  t.equal(new CodecError('x').environment, false);
});
