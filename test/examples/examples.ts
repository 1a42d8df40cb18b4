// Every example runs as written, so none can rot. They use the built CLI (dist/), which
// `npm test` builds first.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..', '..');

const shellExamples: Record<string, string[]> = {
  'backup-to-file.sh': ['verified   every CRC and frame checks out', 'zstd -t: the snapshot is a valid .zst file', 'restored 1001 entries; user:42 is profile of user 42', 'bytes came back as bytes'],
  'ship-over-socket.sh': ['protocol: received file is identical', 'socat: received file is identical'],
  'resume-transfer.sh': ['cut short:', 'SNAP_ERR_TRUNCATED', 'resumed: identical'],
  'restore-latest.sh': ['CORRUPT', 'version 2', 'the damaged snapshot was moved aside'],
};

for (const [name, expected] of Object.entries(shellExamples)) {
  t.test(name, async (t) => {
    const work = t.testdir();
    const r = spawnSync('bash', [path.join(root, 'examples', name), work], { encoding: 'utf8', timeout: 120_000 });
    t.equal(r.status, 0, `exit code (stderr: ${r.stderr.slice(-500)})`);
    for (const line of expected) t.match(r.stdout + r.stderr, line);
  });
}

t.test('custom-pipeline.ts', async (t) => {
  const r = spawnSync(process.execPath, [...process.execArgv, path.join(root, 'examples', 'custom-pipeline.ts')], { encoding: 'utf8', timeout: 120_000 });
  t.equal(r.status, 0, r.stderr.slice(-500));
  t.match(r.stdout, /restored 33333 live ones; all equal/);
});

t.test('consistent-source.ts', async (t) => {
  const r = spawnSync(process.execPath, [...process.execArgv, path.join(root, 'examples', 'consistent-source.ts')], { encoding: 'utf8', timeout: 120_000 });
  t.equal(r.status, 0, r.stderr.slice(-500));
  t.match(r.stdout, /restored 4447 entries: exactly the state at index 20000/);
});

t.test('every example is tested here or in its own test', async (t) => {
  // s3-backup.sh needs an S3 server: test/s3/example-s3-backup.ts runs it (npm run test:s3).
  const listed = new Set([...Object.keys(shellExamples), 'custom-pipeline.ts', 'consistent-source.ts', 'replicated-kv', 's3-backup.sh']);
  for (const entry of fs.readdirSync(path.join(root, 'examples'))) t.ok(listed.has(entry), `${entry} is run by a test`);
});
