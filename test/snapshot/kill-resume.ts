// SIGKILL a child process writing a 256 MiB snapshot at 20 random points; every restart resumes
// from the partial file, and every finished file equals the uninterrupted one byte for byte.
// The long form is `npm run fault:kill -- --count N`.
import t from 'tap';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { killResume } from '../../bench/dist/kill-resume.js';

t.test('20 kills of a 256 MiB snapshot write, each resumed', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapstream-kill-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const lines: string[] = [];
  const { kills, finished } = await killResume({
    count: 20,
    entries: Math.ceil((256 * 1024 * 1024) / 760),
    dir,
    seed: 20261122,
    log: (line) => lines.push(line),
  });
  t.equal(kills.length, 20, 'killed 20 times');
  t.ok(finished >= 1, 'finished at least one snapshot, equal to the uninterrupted one');
  for (const k of kills) {
    t.ok(k.rewritten <= k.remainder + k.blockOnDisk, `kill ${k.kill}: re-wrote ${k.rewritten} B, remainder ${k.remainder} B`);
    t.ok(k.reread <= k.rawRemainder + k.blockRaw, `kill ${k.kill}: re-read ${k.reread} B, remainder ${k.rawRemainder} B`);
  }
  // Most kills should land mid-write, keeping some of the file.
  t.ok(kills.filter((k) => k.durableBytes > 0).length >= 10, 'most kills kept durable blocks');
  t.comment(lines.join('\n'));
});
