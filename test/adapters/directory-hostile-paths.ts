/**
 * A hostile directory snapshot — well-formed, every CRC right, but naming a path with `..`, an
 * absolute path, an empty or `.` component, a non-string path, a path through (or onto) a
 * symlink the snapshot itself planted, a parent it never made, a path twice, a bad mode or
 * entry type — is refused with SNAP_ERR_FORMAT, and nothing is written outside the
 * target: not beside it, not through the planted link, and the live target is left as it was.
 * Through a store, restore reports it as a 'corrupt' snapshot (moved aside) and falls back to
 * an older, sound one.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import {
  directoryApplier,
  directorySource,
  readSnapshot,
  DirectorySnapshotStore,
  writeSnapshot,
  type DecodedEntry,
  type Entry,
} from '../../lib/index.js';
import { readTree } from './fixtures/tree.js';

const file = (p: unknown, value = 'pwned', m = 0o644): Entry => ({ key: JSON.stringify({ t: 'f', p, m, i: 0, n: 1 }), value });
const dir = (p: unknown, m = 0o755): Entry => ({ key: JSON.stringify({ t: 'd', p, m }), value: '' });
const link = (p: string, target: string): Entry => ({ key: JSON.stringify({ t: 'l', p, m: 0o777 }), value: target });

// Each case starts with a harmless entry, so the applier is mid-restore when it meets the bad one.
const hostile: [string, Entry[]][] = [
  ['a `..` path', [file('ok.txt', 'fine'), file('../escaped.txt')]],
  ['a `..` inside a path', [file('ok.txt', 'fine'), file('sub/../../escaped.txt')]],
  ['a `..` directory', [dir('..')]],
  ['an absolute path', [file('ok.txt', 'fine'), file('/tmp/snapstream-escaped.txt')]],
  ['an absolute path into the outside directory', [file('OUTSIDE/escaped.txt')]],
  ['an empty path', [file('')]],
  ['a `.` component', [file('./x')]],
  ['an empty component', [file('a//b')]],
  ['a path that is not a string', [file(42)]],
  ['a file written through a planted symlink', [link('door', '../outside'), file('door/escaped.txt')]],
  ['a directory made through a planted symlink', [link('door', '../outside'), dir('door/made', 0o777)]],
  ['a link planted through a planted symlink', [link('door', '../outside'), link('door/evil', '/etc/passwd')]],
  ['a file written onto a planted symlink', [link('door', '../outside/victim.txt'), file('door')]],
  ['a directory chmod-ed through a planted symlink', [link('door', '../outside'), dir('door', 0o777)]],
  ['a parent that was never restored', [file('missing/x')]],
  ['a path that comes twice', [file('ok.txt', 'fine'), file('ok.txt', 'again')]],
  ['a mode out of range', [file('ok.txt', 'fine', 0o17777)]],
  ['an unknown entry type', [{ key: JSON.stringify({ t: 'x', p: 'a', m: 0o644 }), value: '' }]],
  ['a key that is not a tree key', [{ key: 'plain key', value: '' }]],
];

for (const [name, entries] of hostile) {
  t.test(`refused: ${name}`, async (t) => {
    const root = t.testdir({ outside: { 'victim.txt': 'untouched' }, target: { 'live.txt': 'live state' } });
    fs.chmodSync(path.join(root, 'outside'), 0o755);
    const outsideBefore = readTree(path.join(root, 'outside'));
    const targetBefore = readTree(path.join(root, 'target'));
    const rewritten = entries.map((e) => ({ ...e, key: (e.key as string).replace('OUTSIDE', path.join(root, 'outside')) }));
    const snap = path.join(root, 'hostile.snap');
    await writeSnapshot(rewritten, snap);

    const applier = directoryApplier(path.join(root, 'target'));
    let error: unknown;
    try {
      await applier.begin({});
      for await (const batch of readSnapshot(snap, { batch: true }) as AsyncIterable<DecodedEntry[]>) await applier.write(batch);
      await applier.commit();
    } catch (err) {
      error = err;
      await applier.abort();
    }
    t.match(error, { code: 'SNAP_ERR_FORMAT' }, 'refused with SNAP_ERR_FORMAT');
    t.same(readTree(path.join(root, 'outside')), outsideBefore, 'nothing written, made or changed outside');
    t.same(readTree(path.join(root, 'target')), targetBefore, 'the live target untouched');
    t.same(fs.readdirSync(root).sort(), ['hostile.snap', 'outside', 'target'], 'nothing beside the target');
    t.notOk(fs.existsSync('/tmp/snapstream-escaped.txt'), 'nothing at the absolute path');
  });
}

t.test('through a store: the hostile snapshot is moved aside and an older sound one restored', async (t) => {
  const root = t.testdir({ src: { 'a.txt': 'sound' }, outside: {}, target: {} });
  const store = await DirectorySnapshotStore.at(path.join(root, 'store'));
  t.teardown(() => store.close());
  const sound = await store.create(directorySource(path.join(root, 'src')), { index: 1 });
  // A snapshot planted in the store (received from a hostile peer, say), newer than the sound one.
  const planted = 'snap-planted';
  await writeSnapshot([link('door', '../outside'), file('door/escaped.txt')], store.pathOf(planted), {
    meta: { kind: 'directory', index: 2 },
    createdAt: Date.now() + 1000,
  });
  await store.adopt(planted);
  t.equal((await store.latest())?.id, planted);

  const corrupt: { id: string; error: { code?: string } }[] = [];
  store.on('corrupt', (e) => corrupt.push(e));
  const result = await store.restore(directoryApplier(path.join(root, 'target')));
  t.equal(result.snapshot.id, sound.id, 'the sound snapshot restored');
  t.same(result.corrupt, [planted]);
  t.equal(corrupt[0]?.error.code, 'SNAP_ERR_FORMAT', 'reported with SNAP_ERR_FORMAT');
  t.same(fs.readdirSync(path.join(root, 'outside')), [], 'nothing written outside');
  t.same(readTree(path.join(root, 'target')), readTree(path.join(root, 'src')));
});
