/**
 * `snapstream store …` round trip on a directory, through the store commands shared with
 * `snapstream s3 …` (test/s3/cli-store-round-trip.ts runs the same steps on a bucket and compares):
 * ls with its pending and problems, verify one (`latest` too) and all, a damaged snapshot restored
 * by id is an error and stays listed, a restore falls back past damaged ones, prune, delete, an
 * inherited name as subcommand is a usage error.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { distProblem } from '../fixtures/built-dist.js';
import { directoryBackend, storeRoundTrip } from '../fixtures/store-round-trip.js';

t.test('dist is built from the current sources', async (t) => {
  t.equal(distProblem(), null);
});

t.test('store: ls, verify, restore by id and with fall back, prune, delete', async (t) => {
  const work = t.testdir();
  const steps = await storeRoundTrip(directoryBackend(path.join(work, 'store')), work);
  const at = (i: number) => steps[i]!;
  const ids = (i: number) => (at(i).json as { snapshots: { id: string }[] }).snapshots.map((s) => s.id);

  t.same(ids(0), ['s3', 's2', 's1'], 'ls: newest first');
  t.same(Object.keys(at(0).json as object), ['snapshots', 'pending', 'problems'], 'ls: snapshots, pending, problems');
  t.same(at(1).json, { ok: ['s3'], corrupt: [] }, 'verify latest: the newest');
  t.same(at(2).json, { ok: ['s3', 's2', 's1'], corrupt: [], failed: [], problems: [] }, 'verify: all');
  t.match(at(3), { args: ['verify', 's2'], code: 3, json: null }, 'verify of the damaged one: exit 3');
  t.match(at(4), { args: ['restore', '--id', 's2'], code: 3, json: null }, 'restore --id of the damaged one: exit 3, no fall back');
  t.same(ids(5), ['s3', 's2', 's1'], 'and it is still listed');
  t.same(at(6).json, { id: 's1', entries: 200, expired: 0, corrupt: ['s3', 's2'] }, 'restore: past both damaged ones');
  t.equal(fs.readFileSync(path.join(work, 'fallback.jsonl'), 'utf8').trim().split('\n').length, 200, 'the entries restored');
  t.same(ids(7), ['s1'], 'the damaged ones moved aside');
  t.same(at(8).json, { removed: ['s4', 's1'] }, 'prune --max-snapshots 1: all but the newest');
  t.same(at(9).json, { removed: ['s5'] }, 'delete');
  t.match(at(10), { code: 1, error: 'SNAP_ERR_NOT_FOUND' }, 'delete of a missing one');
  t.same(at(11).json, { snapshots: [], pending: [], problems: [] }, 'ls of an empty store');
  t.match(at(12), { code: 1, error: 'SNAP_ERR_NOT_FOUND' }, 'restore from an empty store');
  t.match(at(13), { args: ['toString'], code: 2, error: 'SNAP_ERR_INVALID_ARGUMENT' }, 'an inherited name is an unknown subcommand');
  t.equal(steps.length, 14);
});
