/**
 * The receiver's index of the frames it holds is bounded by its own limits, never by the peer:
 * at most `maxFiles` base files (the newest), at most `maxFrames` frames; files that are not
 * whole snapshots (a partial, a JSON list, a cut file) are passed over.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { BaseFrames } from '../../lib/transfer/base-frames.js';
import { writeDeltaPair } from './fixtures/delta-snapshots.js';

t.test('bases: newest first, within maxFiles and maxFrames, non-snapshots passed over', async (t) => {
  const dir = t.testdir({});
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  await writeDeltaPair(a, b, 8000);
  fs.writeFileSync(path.join(dir, 'store.json'), '{"snapshots":[]}');
  fs.writeFileSync(path.join(dir, 'cut'), fs.readFileSync(a).subarray(0, 5000));
  fs.copyFileSync(a, path.join(dir, 'x.partial'));
  fs.utimesSync(a, new Date(1000), new Date(1000));
  fs.utimesSync(b, new Date(2000), new Date(2000));

  const candidates = await BaseFrames.candidatesIn(dir);
  t.notOk(candidates.some((c) => c.endsWith('.partial')), 'partials are never bases');

  const all = await BaseFrames.build(candidates);
  t.strictSame(all.files, [b, a], 'the snapshot files, newest first');
  const one = await BaseFrames.build(candidates, { maxFiles: 1 });
  t.strictSame(one.files, [b]);
  t.ok(one.size < all.size);
  const few = await BaseFrames.build(candidates, { maxFrames: 5 });
  t.equal(few.size, 5, 'no more frames than maxFrames');
  await Promise.all([all.close(), one.close(), few.close()]);
});
