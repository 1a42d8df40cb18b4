/**
 * compressFile killed mid-way (SIGKILL, so nothing is cleaned up): the older file under the
 * target name is untouched, what was written waits in `<target>.partial`, and the next run
 * starts that partial afresh and installs a whole file. Runs the built CLI (`npm test` builds).
 */
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { textWithNoise } from '../fixtures/random.js';
import { root } from '../fixtures/built-dist.js';

const run = promisify(execFile);
const cli = path.join(root, 'dist', 'cli', 'main.js');

t.test('SIGKILL during compress IN OUT, then again to the end', async (t) => {
  const dir = t.testdir();
  const source = path.join(dir, 'segment.log');
  // 96 MiB, compressing about 3×: long enough to be caught mid-way.
  const raw = textWithNoise(96 * 1024 * 1024, 11, 9);
  fs.writeFileSync(source, raw);
  const target = path.join(dir, 'segment.log.zst');
  fs.writeFileSync(target, 'the older file');
  const partial = `${target}.partial`;

  const child = spawn(process.execPath, [cli, '--quiet', 'compress', '--crc', source, target], { stdio: 'ignore' });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  // Kill once a few MiB of output are in the partial.
  for (let i = 0; i < 2000 && (fs.statSync(partial, { throwIfNoEntry: false })?.size ?? 0) < 4 * 1024 * 1024; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  child.kill('SIGKILL');
  t.equal(await exited, 'SIGKILL', 'killed, not finished');
  const kept = fs.statSync(partial).size;
  t.ok(kept >= 4 * 1024 * 1024, `the partial holds ${kept} bytes`);
  t.equal(fs.readFileSync(target, 'utf8'), 'the older file', 'the older file is untouched');

  const { stdout } = await run(process.execPath, [cli, '--json', 'compress', '--crc', source, target]);
  const summary = JSON.parse(stdout) as { bytesIn: number; bytesOut: number };
  t.equal(summary.bytesIn, raw.length);
  t.equal(summary.bytesOut, fs.statSync(target).size);
  t.notOk(fs.existsSync(partial), 'the partial became the file');
  const back = await run('zstd', ['-d', '-c', '-q', target], { encoding: 'buffer', maxBuffer: 256 << 20 });
  t.ok(back.stdout.equals(raw), 'zstd -d gives the input back');
});
