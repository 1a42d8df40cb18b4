/**
 * A receiver reads the base frames it copies in runs — a frame and those after it in the same
 * base, in one read — and hands out each frame's bytes exactly; frames asked for out of order
 * are read too, and a base that shrank since it was indexed gives null (the frame forgotten).
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { BaseFrames } from '../../lib/transfer/base-frames.js';
import { writeDeltaPair } from './fixtures/delta-snapshots.js';
import { framesOf } from './fixtures/frames-of.js';

t.test('frames read in runs, each one exact', async (t) => {
  const dir = t.testdir({});
  const base = path.join(dir, 'base');
  await writeDeltaPair(base, path.join(dir, 'other'), 8000);
  const bytes = fs.readFileSync(base);
  const frames = await framesOf(base);
  t.ok(frames.length > 20, `${frames.length} frames`);
  const index = await BaseFrames.build([base]);
  t.teardown(() => index.close());

  // Held all at once, the first ten frames lie in far fewer reads than frames.
  const held: Buffer[] = [];
  for (const f of frames.slice(0, 10)) {
    const digest = f.digest.toString('hex');
    const got = await index.read(digest, index.find(digest)!);
    t.ok(got?.equals(bytes.subarray(f.offset, f.offset + f.length)), `frame at ${f.offset}`);
    held.push(got!);
  }
  t.ok(new Set(held.map((b) => b.buffer)).size <= 2, 'ten consecutive frames from at most two reads');
  for (const b of held) index.release(b);

  // Out of order, and every frame once.
  const order = frames.map((_, i) => i).sort((a, b) => ((a * 7919) % 101) - ((b * 7919) % 101));
  for (const i of order) {
    const f = frames[i]!;
    const digest = f.digest.toString('hex');
    const got = await index.read(digest, index.find(digest)!);
    t.ok(got?.equals(bytes.subarray(f.offset, f.offset + f.length)));
    index.release(got!);
  }
});

t.test('a base that shrank: null, and the frame forgotten', async (t) => {
  const dir = t.testdir({});
  const base = path.join(dir, 'base');
  await writeDeltaPair(base, path.join(dir, 'other'), 8000);
  const frames = await framesOf(base);
  const index = await BaseFrames.build([base]);
  t.teardown(() => index.close());
  const last = frames.at(-1)!;
  fs.truncateSync(base, last.offset + 1);
  const digest = last.digest.toString('hex');
  t.equal(await index.read(digest, index.find(digest)!), null);
  t.equal(index.find(digest), undefined, 'forgotten');
  // A frame before the cut still reads.
  const first = frames[0]!;
  const ok = await index.read(first.digest.toString('hex'), index.find(first.digest.toString('hex'))!);
  t.equal(ok?.length, first.length);
});
