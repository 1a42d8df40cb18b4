/**
 * examples/replicated-kv runs to the end (exit code 0): the leader applies 8000 writes to a
 * LevelDB and takes scheduled snapshots (at least one while writing, how many depends on speed),
 * keeps at most 3, and takes a last one at the final index; the
 * follower receives it over TCP straight into its store, restores it into its own LevelDB and
 * serves reads over HTTP, every one of which matches the leader. Runs the built package.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { distProblem, root } from '../fixtures/built-dist.js';

t.test('node examples/replicated-kv/replicated-kv.mjs --writes 8000', async (t) => {
  t.equal(distProblem(), null, 'dist/ is built from the current lib/');
  const child = spawn(process.execPath, [path.join(root, 'examples/replicated-kv/replicated-kv.mjs'), '--writes', '8000'], { cwd: root });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  t.equal(code, 0, 'exit code 0');
  t.equal(stderr, '', 'nothing on stderr (no failed checkpoint)');
  const lines = stdout.trimEnd().split('\n');
  t.equal(lines.length, 4, stdout);
  t.match(lines[0], /^leader: 8000 writes applied, [23] snapshots kept, latest snap-0*8000-\d+ \(index 8000, 5000 keys\)$/);
  t.match(lines[1], /^shipped [1-9]\d* bytes to the follower in [1-9]\d* connection\(s\)$/);
  t.match(lines[2], /^follower: restored snap-0*8000-\d+ \(5000 keys\) into its LevelDB$/);
  t.equal(lines[3], 'follower reads: 5000 keys checked over HTTP, 0 differ from the leader');
});
