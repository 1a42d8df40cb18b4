// The progress bar: drawn on stderr in a real terminal (a pseudo-terminal from `script`), with
// bytes and rate; absent when stderr is not a terminal, and with --quiet.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { root } from '../fixtures/built-dist.js';

const cli = path.join(root, 'dist', 'cli', 'main.js');

t.test('drawn in a terminal, not in a pipe, not with --quiet', async (t) => {
  const dir = t.testdir();
  const input = path.join(dir, 'in.bin');
  fs.writeFileSync(input, crypto.randomBytes(40 * 1024 * 1024));
  const inTerminal = (extra: string): string =>
    spawnSync('script', ['-qfec', `${process.execPath} ${cli} compress ${extra} < ${input} > ${path.join(dir, 'out.zst')}`, '/dev/null'], {
      encoding: 'utf8',
      timeout: 60_000,
    }).stdout;
  const drawn = inTerminal('');
  t.match(drawn, /\r\x1b\[Kcompress\s+[\d.]+ (KiB|MiB)\s+[\d.]+ (B|KiB|MiB|GiB)\/s/, 'bytes and rate, redrawn in place');
  t.match(drawn, /40\.0 MiB/, 'the final line shows all the bytes');
  t.notMatch(inTerminal('--quiet'), /compress\s+[\d.]+ MiB/, '--quiet turns it off');
  const piped = spawnSync(process.execPath, [cli, 'compress'], { input: fs.readFileSync(input), stdio: ['pipe', 'ignore', 'pipe'], timeout: 60_000 });
  t.equal(piped.status, 0);
  t.equal(piped.stderr.length, 0, 'nothing on stderr when it is not a terminal');
});
