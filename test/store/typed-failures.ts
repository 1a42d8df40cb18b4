/**
 * No raw Node error reaches a caller of the store or the sources: a missing directory given to
 * directorySource, a restore whose target cannot be made (its parent is a file), a store whose
 * list cannot be written, each fails with a SnapstreamError (SNAP_ERR_IO) carrying the system
 * error as its cause — not an `Error` with an errno code.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { directoryApplier, directorySource, mapSource, DirectorySnapshotStore, SnapstreamError } from '../../lib/index.js';

const typedIo = (t: Tap.Test, err: unknown, what: string): void => {
  t.ok(err instanceof SnapstreamError, `${what}: a SnapstreamError (${(err as Error)?.name}: ${(err as Error)?.message})`);
  t.equal((err as SnapstreamError).code, 'SNAP_ERR_IO', `${what}: SNAP_ERR_IO`);
  t.ok((err as { cause?: { code?: string } }).cause?.code, `${what}: the system error as cause`);
};

t.test('directorySource of a missing directory', async (t) => {
  const err = (() => {
    try {
      directorySource(path.join(t.testdir(), 'nope'));
    } catch (e) {
      return e;
    }
  })();
  typedIo(t, err, 'directorySource');
});

t.test('a restore into a target that cannot be made', async (t) => {
  const work = t.testdir({ 'a-file': 'x', src: { 'seg.log': 'records' } });
  const store = await DirectorySnapshotStore.at(path.join(work, 'store'), { write: { codec: 'lz4' } });
  t.teardown(() => store.close());
  await store.create(directorySource(path.join(work, 'src')), { index: 1 });
  const err = await store.restore(directoryApplier(path.join(work, 'a-file', 'target'))).catch((e: unknown) => e);
  typedIo(t, err, 'restore');
});

t.test('a store whose list cannot be written', async (t) => {
  const dir = path.join(t.testdir(), 'store');
  const store = await DirectorySnapshotStore.at(dir, { write: { codec: 'lz4' } });
  t.teardown(() => store.close());
  // Opening the list's temporary file fails, as on a directory made read-only.
  const realOpen = fs.promises.open;
  t.teardown(() => {
    fs.promises.open = realOpen;
  });
  fs.promises.open = (async (file: fs.PathLike, ...rest: unknown[]) => {
    if (String(file).includes('.store.json.')) throw Object.assign(new Error(`EACCES: permission denied, open '${String(file)}'`), { code: 'EACCES', syscall: 'open' });
    return (realOpen as (...a: unknown[]) => Promise<fs.promises.FileHandle>)(file, ...rest);
  }) as typeof fs.promises.open;
  const err = await store.create(mapSource(new Map([['k', 'v']]), { index: 1 })).catch((e: unknown) => e);
  typedIo(t, err, 'create');
});
