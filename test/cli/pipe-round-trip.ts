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
