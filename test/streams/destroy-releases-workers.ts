/**
 * Destroying a Compressor or Decompressor mid-stream releases its worker jobs: destroyed as its
 * first output comes out, while the jobs behind it are shown to be still running (results
 * pending; for zstd, the shared worker pool busy), its late results are dropped, nothing more is emitted, the shared worker pool goes idle, and a process that
 * does nothing else exits on its own (idle workers never keep it alive). Checked in a child
 * process that must exit by itself within a few seconds, without calling process.exit().
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { testSeed } from '../fixtures/random.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const lib = pathToFileURL(path.resolve(here, '../../lib/index.ts')).href;
const poolModule = pathToFileURL(path.resolve(here, '../../lib/codec/worker-pool.ts')).href;
// The child runs the TypeScript sources with the same loader tap gives this process.
const loaderArgs = process.execArgv.filter((a) => a.includes('@tapjs/typescript') || a === '--enable-source-maps');
const seed = testSeed(t, 0x52e382ff);

const script = `
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Compressor, Decompressor } from '${lib}';
import { sharedPool } from '${poolModule}';
import { createCipheriv } from 'node:crypto';

// Seeded bytes (AES-128-CTR of zeros, as test/fixtures/random.ts makes them): the seed is the parent's.
const key = Buffer.alloc(16);
key.writeUInt32LE(${seed}, 0);
const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
const randomBytes = (n) => cipher.update(Buffer.alloc(n));

const say = (line) => process.stdout.write(line + '\\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const block = 1024 * 1024;
// Hex text: it compresses, so zstd's blocks go to the worker pool (random bytes would be stored
// on the main thread without one: lib/codec/stored-probe.ts).
const data = Buffer.from(randomBytes(block / 2).toString('hex'));

/** Waits (up to 10 s) for the shared pool to have no job running. */
async function poolIdle() {
  const start = Date.now();
  while (sharedPool().busy > 0 && Date.now() - start < 10000) await sleep(10);
  return sharedPool().busy;
}

// The worker threads ready first: while they start, a Compressor compresses its blocks after the
// first on this thread, and none would be left running on the pool.
sharedPool().start();
await sharedPool().whenReady();

for (const codec of ['zstd', 'lz4', 'none']) {
  const c = new Compressor({ codec, blockSize: block, concurrency: 8 });
  let destroyed = false;
  let after = 0;
  let atDestroy = '';
  const closed = new Promise((r) => c.on('close', r));
  // Fill every slot with a job, then destroy when the first frame comes out: the jobs behind
  // it are still running then (their results arrive in later tasks than the first one's).
  c.on('data', () => {
    if (destroyed) return after++;
    destroyed = true;
    atDestroy = ' pending=' + (c.results.size > 0) + ' pool-busy=' + (sharedPool().busy > 0);
    c.destroy();
  });
  c.on('error', (e) => say(codec + ' error ' + e.message));
  for (let i = 0; i < 12; i++) c.write(data);
  await closed;
  const busy = await poolIdle();
  await sleep(50);
  say(codec + atDestroy + ' closed after-destroy=' + after + ' busy=' + busy);
}

{
  const frames = [];
  const c = new Compressor({ blockSize: block });
  c.on('data', (f) => frames.push(f));
  // Hex text: it compresses (random bytes would be stored frames, which skip the workers).
  for (let i = 0; i < 8; i++) c.write(Buffer.from(randomBytes(block / 2).toString('hex')));
  c.end();
  await new Promise((r) => c.on('end', r));
  const d = new Decompressor({ concurrency: 8 });
  let destroyed = false;
  let after = 0;
  let atDestroy = '';
  const closed = new Promise((r) => d.on('close', r));
  d.on('data', () => {
    if (destroyed) return after++;
    destroyed = true;
    atDestroy = ' pending=' + (d.results.size > 0) + ' pool-busy=' + (sharedPool().busy > 0);
    d.destroy();
  });
  d.write(Buffer.concat(frames));
  await closed;
  const busy = await poolIdle();
  await sleep(50);
  say('decompressor' + atDestroy + ' closed after-destroy=' + after + ' busy=' + busy);
}

{
  let n = 0;
  const src = new Readable({ read() { this.push(randomBytes(block)); } });
  const sink = new Writable({ write(_c, _e, cb) { if (++n === 3) cb(new Error('disk on fire')); else cb(); } });
  try {
    await pipeline(src, new Compressor({ blockSize: block }), sink);
    say('pipeline resolved');
  } catch (e) {
    say('pipeline rejected ' + e.message);
  }
}
say('end-of-script');
// No process.exit(): the process must end by itself now.
`;

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  lines: string[];
  stderr: string;
}

async function runChild(): Promise<ChildResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapstream-destroy-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'destroy-mid-stream.mts'); // .mts: an ES module wherever the temp dir is
  fs.writeFileSync(file, script);
  const env: NodeJS.ProcessEnv = { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' };
  delete env.NODE_OPTIONS; // no coverage hooks from tap in the child
  const started = Date.now();
  const child = spawn(process.execPath, [...loaderArgs, file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  let endedAt = 0;
  // Once the script's last line is out, the process must be gone within a few seconds.
  const killer = setInterval(() => {
    if (!endedAt && stdout.includes('end-of-script')) endedAt = Date.now();
    if ((endedAt && Date.now() - endedAt > 5000) || Date.now() - started > 60_000) child.kill('SIGKILL');
  }, 20);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('exit', (c, s) => resolve([c, s])),
  );
  clearInterval(killer);
  return { code, signal, ms: endedAt ? Date.now() - endedAt : -1, lines: stdout.trim().split('\n'), stderr };
}

const result = runChild();

for (const codec of ['zstd', 'lz4', 'none']) {
  t.test(`Compressor (${codec}) destroyed mid-stream: no output after, worker jobs released`, async (t) => {
    const r = await result;
    // zstd runs on the worker pool, lz4 on libuv's threads; `none` makes stored frames on the main
    // thread, so for it only results still to be handed on are pending.
    const pool = codec === 'zstd';
    t.ok(
      r.lines.includes(`${codec} pending=true pool-busy=${pool} closed after-destroy=0 busy=0`),
      `${codec}: jobs in flight at destroy()${pool ? ', on the worker pool' : ''}; closed, nothing emitted after, pool idle`,
      { lines: r.lines },
    );
  });
}

t.test('Decompressor destroyed mid-stream: no output after, worker jobs released', async (t) => {
  const r = await result;
  t.ok(
    r.lines.includes('decompressor pending=true pool-busy=true closed after-destroy=0 busy=0'),
    'jobs running on the worker pool at destroy(); closed, nothing emitted after, pool idle',
    { lines: r.lines },
  );
});

t.test('a pipeline failing mid-stream rejects with the error', async (t) => {
  const r = await result;
  t.ok(r.lines.includes('pipeline rejected disk on fire'), 'rejected with the sink error');
});

t.test('the process then exits on its own', async (t) => {
  const r = await result;
  t.equal(r.lines.at(-1), 'end-of-script', `the script ran to its end ${r.stderr}`);
  t.equal(r.signal, null, 'not killed: it ended by itself');
  t.equal(r.code, 0, 'exit code 0');
  t.ok(r.ms >= 0 && r.ms < 5000, `exited ${r.ms} ms after its last line`);
});
