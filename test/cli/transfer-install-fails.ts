// A zero exit means the file is in place: when the final rename fails (a non-empty directory at
// the final name), one-way `receive` and `send` to a server both exit non-zero with a one-line
// SNAP_ERR_IO message, and the partial keeps everything for the next run.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createSnapshotServer } from '../../lib/index.js';
import { distProblem, root } from '../fixtures/built-dist.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x5914ee82);

const cli = path.join(root, 'dist', 'cli', 'main.js');

t.test('dist is built from the current sources', async (t) => {
  t.equal(distProblem(), null);
});

t.test('receive: a directory at the final name fails the command', async (t) => {
  const dir = t.testdir();
  const data = randomBytes(3 * 1024 * 1024 + 5);
  const frames = spawnSync(process.execPath, [cli, 'chunk'], { input: data, maxBuffer: 1 << 26 });
  t.equal(frames.status, 0, frames.stderr.toString());
  const file = path.join(dir, 'snap');
  fs.mkdirSync(file);
  fs.writeFileSync(path.join(file, 'keep'), 'x');
  const r = spawnSync(process.execPath, [cli, 'receive', file, '--quiet'], { input: frames.stdout, encoding: 'utf8', timeout: 60_000 });
  t.not(r.status, 0, 'a non-zero exit');
  t.match(r.stderr, /SNAP_ERR_IO|installing/);
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  t.equal(fs.statSync(`${file}.partial`).size, data.length, 'the partial holds it all');

  fs.rmSync(file, { recursive: true });
  const again = spawnSync(process.execPath, [cli, 'receive', file, '--quiet'], { input: frames.stdout, encoding: 'utf8', timeout: 60_000 });
  t.equal(again.status, 0, again.stderr);
  t.ok(fs.readFileSync(file).equals(data));
});

t.test('send: the server cannot install, the sender exits non-zero', async (t) => {
  const dir = t.testdir({ out: { snap: { keep: 'x' } } });
  const source = path.join(dir, 'src');
  fs.writeFileSync(source, randomBytes(1024 * 1024));
  const server = createSnapshotServer({ dir: path.join(dir, 'out') });
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());
  const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
    const child = spawn(process.execPath, [cli, 'send', source, '--to', `127.0.0.1:${port}`, '--id', 'snap', '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('exit', (code) => resolve({ code, err }));
  });
  t.not(r.code, 0, 'a non-zero exit');
  t.match(r.err, /installing/);
  t.notMatch(r.err, /\n\s+at /, 'no stack trace');
});
