/**
 * linkDirectory on one filesystem hard-links every file (the same inode numbers, nothing
 * copied, the link count up by one) and rebuilds the rest of the tree: directories with their
 * modes (even ones the umask would change), empty directories, symlinks with their targets.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { linkDirectory } from '../../lib/index.js';
import { buildTree, readTree } from './fixtures/tree.js';

t.test('hard links on one filesystem', async (t) => {
  const root = t.testdir();
  const src = path.join(root, 'src');
  const dst = path.join(root, 'dst');
  buildTree(src, 'a', 100_000);
  const tree = readTree(src);
  const files = tree.filter((r) => r.type === 'file');

  const result = await linkDirectory(src, dst);
  t.same(result, { linked: files.length, copied: 0 }, `all ${files.length} files linked`);
  for (const f of files) {
    const a = fs.statSync(path.join(src, f.path));
    const b = fs.statSync(path.join(dst, f.path));
    if (a.ino !== b.ino || a.dev !== b.dev) t.fail(`${f.path}: inode ${a.ino} vs ${b.ino}`);
    if (b.nlink !== 2) t.fail(`${f.path}: ${b.nlink} links`);
  }
  t.pass('every file shares its inode with the source, two links each');
  t.same(readTree(dst), tree, 'the same tree: directories and their modes, empty ones, symlinks');
});
