/**
 * A directory snapshot restores a byte-identical tree: through a store, create(directorySource)
 * then restore(directoryApplier) rebuilds nested directories, file modes (0o600, 0o755, 0o444,
 * 0o664, and directory modes such as 0o700 and 0o775 that the umask would change), empty files,
 * empty directories, a file over 4 MiB (stored as several parts), and symlinks (relative, to a
 * directory, dangling). Restoring over an existing tree replaces it whole — nothing of the old
 * tree is left — and leaves no staging directory behind.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { readSnapshot, directoryApplier, directorySource, DIRECTORY_PART_SIZE, DirectorySnapshotStore, type DecodedEntry } from '../../lib/index.js';
import { buildTree, readTree } from './fixtures/tree.js';

t.test('create(directorySource) → restore(directoryApplier) gives the same tree', async (t) => {
  const dir = t.testdir();
  const src = path.join(dir, 'src');
  buildTree(src);
  const before = readTree(src);
  t.ok(before.some((r) => r.type === 'file' && r.size! > DIRECTORY_PART_SIZE), 'a file over 4 MiB');

  const store = await DirectorySnapshotStore.at(path.join(dir, 'store'));
  t.teardown(() => store.close());
  const snap = await store.create(directorySource(src, { app: 'log' }));
  t.match(snap.meta, { kind: 'directory', app: 'log' });

  // The big file went in as several parts.
  const parts: number[] = [];
  for await (const batch of readSnapshot(store.open(snap.id), { batch: true }) as AsyncIterable<DecodedEntry[]>) {
    for (const e of batch) {
      const key = JSON.parse(e.key.toString()) as { p: string; i?: number; n?: number };
      if (key.p === 'big/blob.bin') parts.push(key.i!);
    }
  }
  t.same(parts, [0, 1], 'big/blob.bin in two parts');

  const target = path.join(dir, 'restored');
  const result = await store.restore(directoryApplier(target));
  t.equal(result.snapshot.id, snap.id);
  t.same(readTree(target), before, 'byte-identical: every path, type, mode, size, hash and link target');
  t.same(readTree(src), before, 'the source is untouched');
  t.same(fs.readdirSync(dir).sort(), ['restored', 'src', 'store'], 'no staging or replaced directory left');
});

t.test('restoring over an existing tree replaces it whole', async (t) => {
  const dir = t.testdir();
  const src = path.join(dir, 'src');
  buildTree(src, 'new');
  const target = path.join(dir, 'target');
  buildTree(target, 'old', 1000);
  fs.writeFileSync(path.join(target, 'only-in-old'), 'stale');
  fs.mkdirSync(path.join(target, 'old-dir/sub'), { recursive: true });

  const store = await DirectorySnapshotStore.at(path.join(dir, 'store'));
  t.teardown(() => store.close());
  await store.create(directorySource(src));
  await store.restore(directoryApplier(target));
  t.same(readTree(target), readTree(src), 'exactly the snapshot, nothing of the old tree');
  t.same(fs.readdirSync(dir).sort(), ['src', 'store', 'target']);
});

t.test('an empty directory round-trips as an empty directory', async (t) => {
  const dir = t.testdir({ src: {} });
  const store = await DirectorySnapshotStore.at(path.join(dir, 'store'));
  t.teardown(() => store.close());
  const snap = await store.create(directorySource(path.join(dir, 'src')));
  t.equal(snap.entries, 0);
  await store.restore(directoryApplier(path.join(dir, 'out')));
  t.same(fs.readdirSync(path.join(dir, 'out')), []);
});
