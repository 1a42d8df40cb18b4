/**
 * `snapstream s3 …` against a real server, with credentials from the standard AWS environment
 * variables: put (and a resumed put), ls, get latest, verify, restore with fallback past a
 * corrupted snapshot, prune, delete, abort; and the error cases: a missing bucket (exit 1 with
 * a clear message), refused credentials (exit 5), a secret on the command line (exit 2), an
 * unreachable endpoint (exit 4), a corrupt snapshot (exit 3). Never a stack trace.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { sampleEntries, writeSnapshot } from '../../lib/index.js';
import { distProblem, root } from '../fixtures/built-dist.js';
import { freshBucket, s3Endpoint, testClient } from './fixtures/s3-env.js';

const cli = path.join(root, 'dist', 'cli', 'main.js');
const client = testClient();

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, AWS_ENDPOINT_URL: s3Endpoint(), ...env },
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

t.test('dist is built from the current sources', async (t) => {
  t.equal(distProblem(), null);
});

t.test('put, ls, get latest, verify, restore with fallback, prune, delete', async (t) => {
  const bucket = await freshBucket(t, client);
  const dir = t.testdir();
  const files: string[] = [];
  for (const index of [1, 2]) {
    const file = path.join(dir, `snap-${index}.snap`);
    await writeSnapshot(sampleEntries({ count: 5000, seed: index }), file, { meta: { index }, createdAt: Date.UTC(2026, 0, index) });
    files.push(file);
  }
  const s3 = (...args: string[]) => run(['s3', ...args, '--bucket', bucket, '--prefix', 'p']);
  for (const f of files) {
    const r = s3('put', f);
    t.equal(r.code, 0, r.err);
    t.match(r.out, /uploaded snap-\d to s3:\/\//);
  }
  const ls = run(['--json', 's3', 'ls', '--bucket', bucket, '--prefix', 'p']);
  t.equal(ls.code, 0, ls.err);
  t.same((JSON.parse(ls.out) as { snapshots: { id: string }[] }).snapshots.map((s) => s.id), ['snap-2', 'snap-1']);

  const got = s3('get', 'latest', path.join(dir, 'got.snap'));
  t.equal(got.code, 0, got.err);
  t.ok(fs.readFileSync(path.join(dir, 'got.snap')).equals(fs.readFileSync(files[1]!)));
  t.equal(s3('verify').code, 0);

  const bad = fs.readFileSync(files[1]!);
  bad[bad.length >> 1] ^= 1;
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'p/snap-2.snap', Body: bad }));
  t.equal(s3('verify', 'snap-2').code, 3, 'a corrupt snapshot: exit 3');
  const restored = s3('restore', '--to-jsonl', path.join(dir, 'out.jsonl'));
  t.equal(restored.code, 0, restored.err);
  t.match(restored.out, /snap-2: corrupt, moved aside/);
  const restoredCount = Number(/restored snap-1: ([\d,]+) entries/.exec(restored.out)?.[1]?.replace(/,/g, ''));
  t.ok(restoredCount > 0 && restoredCount <= 5000, `${restoredCount} live entries of 5000 restored`);
  t.equal(fs.readFileSync(path.join(dir, 'out.jsonl'), 'utf8').trim().split('\n').length, restoredCount);

  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'p/snap-3.snap', Body: fs.readFileSync(files[1]!) }));
  const pruned = s3('prune', '--max-snapshots', '1');
  t.equal(pruned.code, 0, pruned.err);
  t.match(pruned.out, /removed snap-1/);
  t.equal(s3('delete', 'snap-3').code, 0);
  t.match(s3('ls').out, /no snapshots/);
  t.match(s3('abort', 'snap-9').out, /no upload of snap-9 in progress/);
});

t.test('errors: clear messages, documented exit codes, no stack traces', async (t) => {
  const bucket = await freshBucket(t, client);
  const file = path.join(t.testdir(), 'a.snap');
  await writeSnapshot(sampleEntries({ count: 100 }), file);
  const cases: [string[], Record<string, string>, number, RegExp][] = [
    [['s3', 'ls', '--bucket', 'snapstream-no-such-bucket'], {}, 1, /NoSuchBucket|not found|NotFound/i],
    [['s3', 'ls', '--bucket', bucket], { AWS_SECRET_ACCESS_KEY: 'wrong' }, 5, /SNAP_ERR_AUTH/],
    [['s3', 'ls', '--bucket', bucket, '--secret-access-key', 'x'], {}, 2, /not taken on the command line/],
    [['s3', 'ls', '--bucket', bucket, '--endpoint', 'http://127.0.0.1:9'], {}, 4, /SNAP_ERR_NETWORK/],
    [['s3', 'ls'], { SNAPSTREAM_S3_BUCKET: '' }, 2, /--bucket is required/],
    [['s3', 'frob', '--bucket', bucket], {}, 2, /unknown s3 subcommand: frob \[SNAP_ERR_INVALID_ARGUMENT\]/],
    [['s3', 'put', path.join(t.testdir(), 'missing.snap'), '--bucket', bucket], {}, 1, /no such file|ENOENT/],
  ];
  for (const [args, env, code, message] of cases) {
    const r = run(args, env);
    t.equal(r.code, code, `${args.join(' ')}: exit ${code}`);
    t.match(r.err, message, args.join(' '));
    t.notMatch(r.err, /\n\s+at /, 'no stack trace');
  }
});
