/**
 * A filter whose standard input is a regular file (`snapstream decompress < FILE`) reads it in
 * 1 MiB reads, not process.stdin's 64 KiB, from where the file's offset stands (as `cat` would:
 * a script may have read a header before); a pipe is read as process.stdin.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { root } from '../fixtures/built-dist.js';
import { randomBytesSeeded } from '../fixtures/random.js';

const dist = path.join(root, 'dist');
const cli = `${process.execPath} ${path.join(dist, 'cli', 'main.js')}`;
const sh = (cmd: string) => spawnSync('bash', ['-o', 'pipefail', '-c', cmd], { encoding: 'buffer', maxBuffer: 1 << 26, timeout: 60_000 });

/** A script printing what stdinStream() gives: its high-water mark and the bytes read. */
const probe = `${process.execPath} --input-type=module -e "
  const { stdinStream } = await import('${path.join(dist, 'cli', 'commands', 'filters.js')}');
  const s = stdinStream();
  const chunks = [];
  for await (const c of s) chunks.push(c);
  process.stdout.write(JSON.stringify({ hwm: s.readableHighWaterMark, text: Buffer.concat(chunks).toString() }));"`;

t.test('a file on stdin: 1 MiB reads from the current offset', async (t) => {
  const dir = t.testdir({ 'in.txt': 'HEADER:the rest of the file' });
  const r = sh(`{ dd bs=7 count=1 of=/dev/null status=none; ${probe}; } < ${path.join(dir, 'in.txt')}`);
  t.equal(r.status, 0, r.stderr.toString());
  t.same(JSON.parse(r.stdout.toString()), { hwm: 1024 * 1024, text: 'the rest of the file' });
});

t.test('a pipe on stdin: process.stdin', async (t) => {
  const r = sh(`printf 'through a pipe' | ${probe}`);
  t.equal(r.status, 0, r.stderr.toString());
  const got = JSON.parse(r.stdout.toString()) as { hwm: number; text: string };
  t.equal(got.text, 'through a pipe');
  t.not(got.hwm, 1024 * 1024, 'Node’s own stdin stream');
});

t.test('decompress < FILE of stored frames gives the bytes back, after what was read before it', async (t) => {
  const dir = t.testdir();
  const data = randomBytesSeeded(3 * 1024 * 1024 + 11, 21);
  fs.writeFileSync(path.join(dir, 'in.bin'), data);
  t.equal(sh(`${cli} compress ${dir}/in.bin ${dir}/in.zst --crc`).status, 0);
  fs.writeFileSync(path.join(dir, 'with-junk.zst'), Buffer.concat([Buffer.from('JUNK!'), fs.readFileSync(path.join(dir, 'in.zst'))]));
  const r = sh(`{ dd bs=5 count=1 of=/dev/null status=none; ${cli} decompress; } < ${dir}/with-junk.zst`);
  t.equal(r.status, 0, r.stderr.toString());
  t.ok(r.stdout.equals(data), 'the input back');
});
