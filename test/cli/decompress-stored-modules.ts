/**
 * `snapstream decompress` of frames of stored blocks (data that does not compress) loads none of
 * the decoders of compressed frames nor the worker pool: the Decompressor loads them when the first
 * compressed frame comes (a fresh process pays for every module it loads). Compressed frames
 * still load them, and decode.
 */
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { compressFile } from '../../lib/index.js';
import { root } from '../fixtures/built-dist.js';
import { logModules } from '../fixtures/module-log.js';
import { randomBytesSeeded, testSeed } from '../fixtures/random.js';

const cli = path.join(root, 'dist', 'cli', 'main.js');
const seed = testSeed(t, 0x10ad1e55);

/** `snapstream decompress < input > output`; the built modules (paths under dist/) it loaded. */
function decompress(t: Test, dir: string, input: string, output: string): string[] {
  const log = path.join(dir, 'modules.log');
  fs.writeFileSync(log, '');
  const stdin = fs.openSync(input, 'r');
  const stdout = fs.openSync(output, 'w');
  const r = spawnSync(process.execPath, ['--import', logModules, cli, 'decompress'], {
    encoding: 'utf8',
    timeout: 60_000,
    stdio: [stdin, stdout, 'pipe'],
    env: { ...process.env, SNAPSTREAM_TEST_MODULE_LOG: log },
  });
  fs.closeSync(stdin);
  fs.closeSync(stdout);
  t.equal(r.status, 0, r.stderr);
  const dist = `${path.join(root, 'dist')}/`;
  return fs
    .readFileSync(log, 'utf8')
    .split('\n')
    .filter((u) => u.startsWith('file:'))
    .map((u) => new URL(u).pathname)
    .filter((p) => p.startsWith(dist))
    .map((p) => p.slice(dist.length));
}

const decoders = ['codec/block-codec.js', 'codec/worker-pool.js', 'codec/lz4-block-decoder.js'];

t.test('stored frames: no decoder of compressed frames loaded, the bytes back', async (t) => {
  const dir = t.testdir();
  const raw = randomBytesSeeded(3 * 1024 * 1024 + 5, seed);
  fs.writeFileSync(path.join(dir, 'raw'), raw);
  for (const codec of ['zstd', 'lz4', 'none'] as const) {
    await compressFile(path.join(dir, 'raw'), path.join(dir, `in.${codec}`), { codec });
    const loaded = decompress(t, dir, path.join(dir, `in.${codec}`), path.join(dir, 'out'));
    t.ok(loaded.includes('streams/decompressor.js'), `${codec}: the Decompressor ran`);
    t.same(loaded.filter((m) => decoders.includes(m)), [], `${codec}: no decoder loaded`);
    t.ok(fs.readFileSync(path.join(dir, 'out')).equals(raw), `${codec}: the bytes`);
  }
});

t.test('compressed frames: the decoders are loaded, and decode', async (t) => {
  const dir = t.testdir();
  const raw = Buffer.from('a snapshot of text compresses. '.repeat(100_000));
  fs.writeFileSync(path.join(dir, 'raw'), raw);
  for (const codec of ['zstd', 'lz4'] as const) {
    await compressFile(path.join(dir, 'raw'), path.join(dir, `in.${codec}`), { codec });
    const loaded = decompress(t, dir, path.join(dir, `in.${codec}`), path.join(dir, 'out'));
    t.ok(loaded.includes('codec/block-codec.js'), `${codec}: block-codec loaded`);
    t.ok(fs.readFileSync(path.join(dir, 'out')).equals(raw), `${codec}: the bytes`);
  }
});
