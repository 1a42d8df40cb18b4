/**
 * `snapstream demo --entries 20000` (the built CLI) runs every step and exits 0: write, verify,
 * read back (all equal), interrupt and resume (identical), transfer (identical), and the store
 * step — five snapshots, three kept by the retention policy, the newest damaged, the one before
 * it restored into a LevelDB with the expired entries skipped.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { distProblem, root } from '../fixtures/built-dist.js';

t.test('snapstream demo --entries 20000', async (t) => {
  t.equal(distProblem(), null, 'dist/ is built from the current lib/');
  const dir = t.testdir();
  const child = spawn(process.execPath, [path.join(root, 'dist/cli/main.js'), 'demo', '--entries', '20000', '--dir', dir], { cwd: root });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  t.equal(code, 0, 'exit code 0');
  t.equal(stderr, '', 'nothing on stderr');
  const lines = stdout.split('\n');
  const step = (name: string, pattern: RegExp): void => {
    const line = lines.find((l) => l.startsWith(`  ${name} `));
    t.match(line, pattern, `${name}: ${line ?? '(missing)'}`);
  };
  t.equal(lines[0], 'snapstream demo');
  step('data set', /^ {2}data set +20,000 entries, /);
  step('write', /^ {2}write +\S+ \S+ in \d+ blocks?, ratio [\d.]+×, /);
  step('verify', /^ {2}verify +every CRC and frame checked, /);
  step('read back', /^ {2}read back +[\d,]+ live entries, [\d,]+ expired skipped, .*, all equal to the source$/);
  step('interrupt', /^ {2}interrupt +stopped at \S+ \S+; the partial holds \d+ whole blocks?$/);
  step('resume', /^ {2}resume +reused .*; identical to the uninterrupted file$/);
  step('transfer', /^ {2}transfer +\S+ \S+ over TCP with HMAC auth; /);
  t.match(stdout, /\n {13}\d+ connections, .*; received file identical\n/, 'transfer: received file identical');
  step('store', /^ {2}store +5 snapshots taken, 3 kept by the retention policy \(newest: index 100000\)$/);
  step('restore', /^ {2}restore +newest snapshot corrupt \(moved aside\); restored index 80000 into LevelDB: 18,000 keys, 2,000 expired entries skipped$/);
});
