// The filters compose in shell pipes: encode | compress | crc | verify | decompress | decode
// gives the input back entry for entry, and the compressed stage is readable by `zstd -d`.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { root } from '../fixtures/built-dist.js';

const cli = `${process.execPath} ${path.join(root, 'dist', 'cli', 'main.js')}`;

t.test('the round trip through pipes equals the input', async (t) => {
  const dir = t.testdir();
  const input = path.join(dir, 'in.jsonl');
  const lines: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    const entry: Record<string, unknown> = { key: `user:${i}`, value: i % 7 === 0 ? { base64: Buffer.from([i & 255, 0, 255]).toString('base64') } : `profile ${i} ünïcødé` };
    if (i % 5 === 0) entry.expiresAt = 1_900_000_000_000 + i;
    lines.push(JSON.stringify(entry));
  }
  fs.writeFileSync(input, `${lines.join('\n')}\n`);
  const sh = (cmd: string) => spawnSync('bash', ['-o', 'pipefail', '-c', cmd], { encoding: 'buffer', maxBuffer: 1 << 28, timeout: 120_000 });

  const round = sh(`${cli} encode < ${input} | ${cli} compress --codec zstd | ${cli} crc | ${cli} verify | ${cli} decompress | ${cli} decode`);
  t.equal(round.status, 0, round.stderr.toString());
  t.equal(round.stdout.toString(), fs.readFileSync(input, 'utf8'), 'decode gives back in.jsonl, line for line');

  const encoded = sh(`${cli} encode < ${input}`).stdout;
  const viaZstd = sh(`${cli} encode < ${input} | ${cli} compress --codec zstd | zstd -d`);
  t.equal(viaZstd.status, 0, viaZstd.stderr.toString());
  t.ok(viaZstd.stdout.equals(encoded), 'zstd -d reads the compressed stage back to the records');
});

t.test('compress IN OUT: file to file, the same frames as the pipe, plus a trailer with --crc', async (t) => {
  const dir = t.testdir();
  const input = path.join(dir, 'segment.log');
  const lines: string[] = [];
  for (let i = 0; i < 60_000; i++) lines.push(`${i} put user:${i % 977} profile-${(i * 7919) % 100_003}`);
  fs.writeFileSync(input, `${lines.join('\n')}\n`);
  const sh = (cmd: string) => spawnSync('bash', ['-o', 'pipefail', '-c', cmd], { encoding: 'buffer', maxBuffer: 1 << 28, timeout: 120_000 });

  const plain = sh(`${cli} compress --codec zstd --block-size 65536 ${input} ${dir}/plain.zst`);
  t.equal(plain.status, 0, plain.stderr.toString());
  t.match(plain.stdout.toString(), /plain\.zst: .* → .* \(\d+\.\d\d×\)/, 'reports sizes and ratio');
  const piped = sh(`${cli} compress --codec zstd --block-size 65536 < ${input}`);
  t.ok(fs.readFileSync(path.join(dir, 'plain.zst')).equals(piped.stdout), 'the same bytes as the filter');

  const withCrc = sh(`${cli} --json compress --codec lz4 --crc ${input} ${dir}/checked.lz4`);
  t.equal(withCrc.status, 0, withCrc.stderr.toString());
  const summary = JSON.parse(withCrc.stdout.toString()) as { bytesIn: number; bytesOut: number; crc: number };
  t.equal(summary.bytesIn, fs.statSync(input).size);
  t.equal(summary.bytesOut, fs.statSync(path.join(dir, 'checked.lz4')).size);
  const back = sh(`${cli} verify < ${dir}/checked.lz4 | ${cli} decompress`);
  t.equal(back.status, 0, back.stderr.toString());
  t.ok(back.stdout.equals(fs.readFileSync(input)), 'verify | decompress gives the file back');
  const stock = sh(`lz4 -d -c ${dir}/checked.lz4`);
  t.ok(stock.stdout.equals(fs.readFileSync(input)), 'lz4 -d reads it too');

  t.equal(sh(`${cli} compress ${input}`).status, 2, 'IN without OUT: usage');
  t.equal(sh(`${cli} compress --crc < ${input}`).status, 2, '--crc in a pipe: usage');
  const missing = sh(`${cli} compress ${dir}/nope.log ${dir}/nope.zst`);
  t.equal(missing.status, 1, 'a missing input: exit 1');
  t.match(missing.stderr.toString(), /nope\.log/);
  t.notOk(fs.existsSync(`${dir}/nope.zst.partial`), 'no partial left');
});
