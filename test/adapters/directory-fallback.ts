/**
 * A store falls back with the same directory applier: when the newest directory snapshot turns
 * out damaged near its end (most of its tree already rebuilt in the staging directory), the
 * attempt is aborted and the applier, begun again for the older snapshot, restores exactly the
 * older tree — nothing of the failed attempt (its directories, their modes) leaks into it — and
 * the live target is untouched until then.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { directoryApplier, directorySource, DirectorySnapshotStore } from '../../lib/index.js';
import { FOOTER_FRAME_SIZE } from '../../lib/format/snapshot-frames.js';
import { buildTree, readTree } from './fixtures/tree.js';

t.test('damaged newest directory snapshot: the older tree is restored whole', async (t) => {
  const root = t.testdir();
  const older = path.join(root, 'older');
  const newer = path.join(root, 'newer');
  buildTree(older, 'old', 1000);
  buildTree(newer, 'new');
  fs.mkdirSync(path.join(newer, 'aa-only-in-newer/sub'), { recursive: true });
  fs.chmodSync(path.join(newer, 'aa-only-in-newer'), 0o500);

  const store = await DirectorySnapshotStore.at(path.join(root, 'store'), { write: { blockSize: 256 * 1024 } });
  t.teardown(() => store.close());
  const a = await store.create(directorySource(older), { index: 1 });
  const b = await store.create(directorySource(newer), { index: 2 });
  const file = store.pathOf(b.id);
  const bytes = fs.readFileSync(file);
  bytes[bytes.length - FOOTER_FRAME_SIZE - 20]! ^= 0xff; // in the last data frame
  fs.writeFileSync(file, bytes);

  const target = path.join(root, 'target');
  fs.mkdirSync(target);
  fs.writeFileSync(path.join(target, 'live'), 'live');
  const applier = directoryApplier(target);
  const seen: string[] = [];
  const watched = {
    ...applier,
    begin: async (meta: Record<string, unknown>) => (seen.push(`begin ${String(meta.index)}`), applier.begin(meta)),
    abort: async () => {
      seen.push(`abort, live: ${fs.readdirSync(target).join(',')}`);
      return applier.abort();
    },
  };
  const result = await store.restore(watched);
  t.equal(result.snapshot.id, a.id, 'the older snapshot restored');
  t.same(result.corrupt, [b.id]);
  t.same(seen, ['begin 2', 'abort, live: live', 'begin 1'], 'the live target was untouched when the attempt was aborted');
  t.same(readTree(target), readTree(older), 'exactly the older tree');
  t.same(fs.readdirSync(root).sort(), ['newer', 'older', 'store', 'target'], 'no staging directory left');
});
