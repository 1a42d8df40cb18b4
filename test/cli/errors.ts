// Bad input gets a one-line message and a documented exit code, never a stack trace:
// unknown commands and flags (with usage), missing files, a corrupt file (naming the byte and
// block), a refused connection, a wrong secret, and a secret on the command line.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createSnapshotServer, writeSnapshot, sampleEntries } from '../../lib/index.js';
import { distProblem, root } from '../fixtures/built-dist.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0xf88041ba);

const cli = path.join(root, 'dist', 'cli', 'main.js');

function run(args: string[], input?: Buffer | string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [cli, ...args], { input: input ?? '', encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The same, without blocking this process (whose server must answer the command). */
function runAsync(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('exit', (code) => resolve({ code, err }));
  });
}

function noStackTrace(t: typeof import("tap").default, err: string): void {
  t.notMatch(err, /\n\s+at /, 'no stack trace');
}

t.test('dist is built from the current sources', async (t) => {
  t.equal(distProblem(), null);
});

t.test('unknown command and unknown flag: usage, exit 2', async (t) => {
  for (const args of [['frobnicate'], ['compress', '--colour', 'blue'], ['inspect'], ['compress', '--codec', 'brotli']]) {
    const r = run(args);
    t.equal(r.code, 2, `${args.join(' ')}: exit 2`);
    t.match(r.err, /^snapstream: /, 'one-line message first');
    noStackTrace(t, r.err);
  }
  t.match(run(['frobnicate']).err, /unknown command: frobnicate[\s\S]*usage: snapstream/);
  t.match(run(['compress', '--colour', 'blue']).err, /unknown option: --colour[\s\S]*usage: snapstream/);
});

t.test('a missing file: exit 1, names the file', async (t) => {
  const missing = path.join(t.testdir(), 'nope.snap');
  for (const args of [['inspect', missing], ['unpack', missing]]) {
    const r = run(args);
    t.equal(r.code, 1, `${args[0]}: exit 1`);
    t.match(r.err, new RegExp(`snapstream: .*${missing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.*ENOENT|no such file`));
    noStackTrace(t, r.err);
  }
});

t.test('a corrupt file: exit 3, names where', async (t) => {
  const file = path.join(t.testdir(), 'bad.snap');
  await writeSnapshot(sampleEntries({ count: 3000 }), file, { blockSize: 64 * 1024 });
  const bytes = fs.readFileSync(file);
  bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
  fs.writeFileSync(file, bytes);
  for (const args of [['unpack', file], ['inspect', file, '--verify']]) {
    const r = run(args);
    t.equal(r.code, 3, `${args.join(' ')}: exit 3`);
    t.match(r.err, /snapstream: .*byte \d+.*\[SNAP_ERR_(CHECKSUM|FORMAT|CODEC|TRUNCATED)\]/, 'says where and the code');
    noStackTrace(t, r.err);
  }
  // A cut stream through the filters too.
  const framed = run(['crc'], 'some bytes').out;
  const r = run(['verify'], framed.slice(0, -3));
  t.equal(r.code, 3);
  t.match(r.err, /SNAP_ERR_TRUNCATED/);
});

t.test('a refused connection: exit 4', async (t) => {
  // A port nothing listens on.
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  const file = path.join(t.testdir(), 'x.bin');
  fs.writeFileSync(file, 'hello');
  const r = run(['send', file, '--to', `127.0.0.1:${port}`, '--retries', '1']);
  t.equal(r.code, 4, r.err);
  t.match(r.err, /snapstream: .*(refused|ECONNREFUSED)/i);
  noStackTrace(t, r.err);
});

t.test('a wrong secret: exit 5; a secret on the command line: exit 2', async (t) => {
  const dir = t.testdir({ 'x.bin': 'hello', secret: 'the right one' });
  const server = createSnapshotServer({ dir: path.join(dir, 'in'), secret: 'the right one' });
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());
  const wrong = await runAsync(['send', path.join(dir, 'x.bin'), '--to', `127.0.0.1:${port}`], { SNAPSTREAM_SECRET: randomBytes(8).toString('hex') });
  t.equal(wrong.code, 5, wrong.err);
  t.match(wrong.err, /authentication failed.*\[SNAP_ERR_AUTH\]/);
  const right = await runAsync(['send', path.join(dir, 'x.bin'), '--to', `127.0.0.1:${port}`, '--secret-file', path.join(dir, 'secret'), '--id', 'x']);
  t.equal(right.code, 0, right.err);
  const onCommandLine = await runAsync(['send', path.join(dir, 'x.bin'), '--to', `127.0.0.1:${port}`, '--secret', 'hunter2']);
  t.equal(onCommandLine.code, 2);
  t.match(onCommandLine.err, /not taken on the command line/);
});
