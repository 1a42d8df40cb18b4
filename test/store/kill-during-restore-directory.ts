/**
 * SIGKILL a process in the middle of `store.restore` into a directory (directoryApplier): while
 * the new tree is being built, just after the live tree was moved aside, just after the new one
 * was put in place, and at a random moment. Afterwards recoverDirectory gives a target holding
 * exactly the old tree or exactly the new one (paths, modes, bytes, links) — never a mix,
 * never a missing target — with nothing left beside it; the store opens cleanly (stale lock
 * taken over) with its snapshot listed and verifying; and restoring again installs the new tree.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { directoryApplier, directorySource, recoverDirectory, DirectorySnapshotStore } from '../../lib/index.js';
import { buildTree, readTree } from '../adapters/fixtures/tree.js';
import { killRestore } from './fixtures/child.js';

const options = { write: { codec: 'lz4' as const, blockSize: 64 * 1024 } };

const cases: [string, 'old' | 'new' | 'either', number?][] = [
  ['fill', 'old'],
  ['swapped', 'old'],
  ['installed', 'new'],
  ['none', 'either', 15],
];

for (const [crash, expect, delay] of cases) {
  t.test(`killed during restore into a directory (${crash === 'none' ? `${delay} ms into it` : crash})`, async (t) => {
    const dir = t.testdir();
    const storeDir = path.join(dir, 'snapshots');
    const src = path.join(dir, 'src');
    const target = path.join(dir, 'target');
    buildTree(src, 'new');
    buildTree(target, 'old', 70_000);
    fs.writeFileSync(path.join(target, 'only-in-old'), 'old');
    const NEW = readTree(src);
    const OLD = readTree(target);
    const store = await DirectorySnapshotStore.at(storeDir, options);
    const snap = await store.create(directorySource(src), { index: 3 });
    await store.close();

    const child = await killRestore(t, ['restore-dir', storeDir, target, crash], `${target}.restoring`, delay);

    await recoverDirectory(target);
    t.same(fs.readdirSync(dir).sort(), ['snapshots', 'src', 'target'], 'nothing left beside the target');
    const state = readTree(target);
    const isOld = JSON.stringify(state) === JSON.stringify(OLD);
    const isNew = JSON.stringify(state) === JSON.stringify(NEW);
    if (expect === 'old') t.same(state, OLD, 'the old tree, whole');
    else if (expect === 'new') t.same(state, NEW, 'the new tree, whole');
    else t.ok(isOld || isNew, `old or new, never a mix (restored: ${child.events.some((e) => e.event === 'restored')})`);

    const again = await DirectorySnapshotStore.at(storeDir, options);
    t.teardown(() => again.close());
    t.same(
      (await again.list()).map((s) => s.id),
      [snap.id],
      'the snapshot is still listed',
    );
    await again.verify(snap.id);
    await again.restore(directoryApplier(target));
    t.same(readTree(target), NEW, 'restoring again installs the new tree');
  });
}
