// Bad input gets one line naming the line number and byte offset with a SNAP_ERR_* code, exit 2,
// never a stack trace; pack (which cannot resume from standard input) leaves no partial file;
// a partial that can resume stays and the message says how. Also: verify FILE verifies the
// file, and an unwritable --to-jsonl is an I/O error line, not a crash.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DirectorySnapshotStore, mapSource, writeSnapshot, sampleEntries } from '../../lib/index.js';
import { distProblem, root } from '../fixtures/built-dist.js';

const cli = path.join(root, 'dist', 'cli', 'main.js');

function run(args: string[], input: Buffer | string = '', cwd?: string) {
  const r = spawnSync(process.execPath, [cli, ...args], { input, timeout: 60_000, maxBuffer: 64 * 1024 * 1024, ...(cwd ? { cwd } : {}) });
  return { code: r.status, out: r.stdout, err: r.stderr.toString('utf8') };
}

const good = (i: number): string => `${JSON.stringify({ key: `k${i}`, value: `v${i}` })}\n`;

t.test('dist is built from the current sources', async (t) => {
  t.equal(distProblem(), null);
});

t.test('a line that is not JSON: its number and byte offset, exit 2, no partial', async (t) => {
  const dir = t.testdir();
  const input = `${good(1)}notjson\n${good(3)}`;
  for (const args of [['pack', 'bad.snap'], ['encode']]) {
    const r = run(args, input, dir);
    t.equal(r.code, 2, args[0]);
    t.match(r.err, /^snapstream: line 2 \(byte 26\): not valid JSON \(.*\) \[SNAP_ERR_INVALID_ENTRY\]\n$/, `${args[0]}: one line`);
  }
  t.same(fs.readdirSync(dir), [], 'neither bad.snap nor bad.snap.partial');
});

t.test('entries of the wrong shape name their line', async (t) => {
  const cases: [string, RegExp][] = [
    ['["k","v"]', /line 2 \(byte 26\): expected a JSON object/],
    ['{"value":"v"}', /line 2 \(byte 26\): "key" is missing/],
    ['{"key":"k","value":7}', /line 2 \(byte 26\): "value" must be a string or \{"base64": "\.\.\."\}/],
    ['{"key":"k","value":"v","expiresAt":"soon"}', /line 2 \(byte 26\): "expiresAt" must be milliseconds since the epoch/],
    ['{"key":"k","value":"v","expiresAt":-1}', /line 2 \(byte 26\): "expiresAt"/],
  ];
  for (const [line, message] of cases) {
    const r = run(['encode'], `${good(1)}${line}\n`);
    t.equal(r.code, 2, line);
    t.match(r.err, new RegExp(`^snapstream: ${message.source}.*\\[SNAP_ERR_INVALID_ENTRY\\]\\n$`), line);
  }
  // What is fine: blank lines, CRLF, bytes as base64, a last line without a newline.
  const dir = t.testdir();
  const ok = run(['pack', 'ok.snap'], `${good(1)}\n\r\n{"key":{"base64":"AAE="},"value":"x","expiresAt":4102444800000}\r\n${good(3).trim()}`, dir);
  t.equal(ok.code, 0, ok.err);
  t.match(run(['--json', 'inspect', path.join(dir, 'ok.snap')]).out.toString(), /"entries":3/);
});

/**
 * `snapstream pack NAME` in `dir`, fed 20,000 good lines with standard input left open, once
 * whole blocks of them are in NAME.partial: the child, its stderr so far, its exit, the text fed.
 */
async function packWithBlocksOnDisk(dir: string, name: string) {
  const child = spawn(process.execPath, [cli, 'pack', name, '--block-size', '4096'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr = { text: '' };
  child.stderr.on('data', (d: Buffer) => (stderr.text += d));
  // The command may end before it has read all we gave it.
  child.stdin.on('error', () => {});
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let text = '';
  for (let i = 1; i <= 20_000; i++) text += good(i);
  child.stdin.write(text);
  const partial = path.join(dir, `${name}.partial`);
  while ((fs.statSync(partial, { throwIfNoEntry: false })?.size ?? 0) < 16 * 1024 && child.exitCode === null) await sleep(20);
  return { child, stderr, exited, text, partial };
}

t.test('a bad line after blocks were written: the partial is removed', async (t) => {
  const dir = t.testdir();
  const { child, stderr, exited, text, partial } = await packWithBlocksOnDisk(dir, 'big.snap');
  child.stdin.end('{"key": oops}\n');
  t.equal(await exited, 2);
  t.match(stderr.text, new RegExp(`^snapstream: line 20001 \\(byte ${Buffer.byteLength(text)}\\): not valid JSON .*\\[SNAP_ERR_INVALID_ENTRY\\]\\n$`));
  t.notOk(fs.existsSync(partial), 'standard input cannot be read again: no partial left');
  t.notOk(fs.existsSync(path.join(dir, 'big.snap')));
});

t.test('pack interrupted (Ctrl-C): exit 130, no partial', async (t) => {
  const dir = t.testdir();
  // Standard input stays open: only the signal ends the command.
  const { child, stderr, exited } = await packWithBlocksOnDisk(dir, 'int.snap');
  child.kill('SIGINT');
  t.equal(await exited, 130);
  t.equal(stderr.text, 'snapstream: interrupted\n');
  t.same(fs.readdirSync(dir), [], 'no partial, no file');
});

t.test('a resumable partial stays and the message says how to resume', async (t) => {
  const dir = t.testdir();
  const chunks = run(['chunk'], Buffer.alloc(10 * 1024 * 1024, 7)).out;
  const child = spawn(process.execPath, [cli, 'receive', 'got.bin'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d));
  // The command may end before it has read all we gave it.
  child.stdin.on('error', () => {});
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  child.stdin.write(chunks.subarray(0, 6_000_000));
  // The first chunk is in the partial file; then the stream ends without its end frame.
  const partial = path.join(dir, 'got.bin.partial');
  while ((fs.statSync(partial, { throwIfNoEntry: false })?.size ?? 0) < 4 * 1024 * 1024 && child.exitCode === null) await sleep(20);
  child.stdin.end();
  t.equal(await exited, 3);
  t.match(err, /^snapstream: chunk stream ends at byte 6000000 .*\[SNAP_ERR_TRUNCATED\]\nsnapstream: got\.bin\.partial keeps 4\.0 MiB: run `snapstream receive got\.bin` again/);
  t.equal(fs.statSync(partial).size, 4 * 1024 * 1024);
  // It resumes: the whole stream again completes the file from the partial.
  const resumed = run(['receive', 'got.bin'], chunks, dir);
  t.equal(resumed.code, 0, resumed.err);
  t.same(fs.readFileSync(path.join(dir, 'got.bin')), Buffer.alloc(10 * 1024 * 1024, 7));
});

t.test('verify FILE verifies the file, not standard input', async (t) => {
  const dir = t.testdir();
  const framed = run(['crc'], 'some bytes').out;
  fs.writeFileSync(path.join(dir, 'ok.bin'), framed);
  fs.writeFileSync(path.join(dir, 'cut.bin'), framed.subarray(0, -3));
  const ok = run(['verify', 'ok.bin'], framed.subarray(0, -3), dir);
  t.equal(ok.code, 0, ok.err);
  t.match(ok.out.toString(), /^ok\.bin: ok, \d+ B verified \(the CRC trailer\)\n$/, 'the verdict, not the bytes');
  const cut = run(['verify', 'cut.bin'], framed, dir);
  t.equal(cut.code, 3);
  t.match(cut.err, /SNAP_ERR_TRUNCATED/);
  // A snapshot file is verified as one: every block and CRC.
  const snap = path.join(dir, 'x.snap');
  await writeSnapshot(sampleEntries({ count: 3000 }), snap, { blockSize: 16 * 1024 });
  t.equal(run(['verify', snap]).code, 0);
  const bytes = fs.readFileSync(snap);
  bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
  fs.writeFileSync(snap, bytes);
  const bad = run(['verify', snap]);
  t.equal(bad.code, 3);
  t.match(bad.err, /^snapstream: .*\[SNAP_ERR_(CHECKSUM|FORMAT|CODEC)\]\n$/);
  t.equal(run(['verify', 'a', 'b'], '', dir).code, 2, 'one file at most');
});

t.test('store restore --to-jsonl into a missing directory: an I/O error line, exit 1', async (t) => {
  const dir = t.testdir();
  const store = await DirectorySnapshotStore.at(path.join(dir, 'store'));
  await store.create(mapSource(new Map([['a', 'b']])));
  await store.close();
  const r = run(['store', 'restore', '--dir', path.join(dir, 'store'), '--to-jsonl', path.join(dir, 'nonexistent', 'out.jsonl')]);
  t.equal(r.code, 1);
  t.match(r.err, /^snapstream: creating .*nonexistent\/out\.jsonl\.partial: ENOENT.* \[SNAP_ERR_IO\]\n$/);
  t.notMatch(r.err, /\n\s+at /);
  const fine = run(['store', 'restore', '--dir', path.join(dir, 'store'), '--to-jsonl', path.join(dir, 'out.jsonl')]);
  t.equal(fine.code, 0);
  t.match(fine.out.toString(), /restored snap-\d+: 1 entry/);
  t.equal(fs.readFileSync(path.join(dir, 'out.jsonl'), 'utf8'), '{"key":"a","value":"b"}\n');
});
