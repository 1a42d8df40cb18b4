// examples/s3-backup.sh runs as written against the real server, so it cannot rot.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { distProblem, root } from '../fixtures/built-dist.js';
import { freshBucket, s3Endpoint, testClient } from './fixtures/s3-env.js';

t.test('examples/s3-backup.sh', async (t) => {
  t.equal(distProblem(), null);
  const bucket = await freshBucket(t, testClient());
  const r = spawnSync('bash', [path.join(root, 'examples', 's3-backup.sh'), bucket, t.testdir()], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, AWS_ENDPOINT_URL: s3Endpoint() },
  });
  t.equal(r.status, 0, `exit code (stderr: ${r.stderr.slice(-800)})`);
  for (const line of ['uploaded snap-20', 'zstd -t: the downloaded snapshot is a valid .zst file', 'snap-20: corrupt, moved aside', 'restored snap-10', 'user:7 is v10 of user 7', 'removed snap-10']) {
    t.match(r.stdout, line);
  }
});
