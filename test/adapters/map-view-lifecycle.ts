/**
 * The life of a mapSource view: several views of one map at once each hold their own moment;
 * `clear()` during a view; a view read to the end, stopped early, closed, or dropped unread
 * (garbage) takes its patches with it, and an own `set` the map had before comes back; a
 * closed view refuses to be read again; a key deleted round the patches is a typed error, not
 * a silently different snapshot; the metadata is the caller's object as it was at the call.
 */
import t from 'tap';
import { mapSource, type Entry, type SnapshotMap, type SnapshotSource } from '../../lib/index.js';

const read = (source: SnapshotSource, cursor?: number): [string, string][] =>
  [...(source.entries(cursor) as Iterable<Entry>)].map((e) => [String(e.key), String(e.value)]);
const patched = (m: Map<unknown, unknown>): boolean => Object.hasOwn(m, 'set') || Object.hasOwn(m, 'delete') || Object.hasOwn(m, 'clear');

t.test('two views at once, each at its own moment, through set, delete, re-insert and clear', async (t) => {
  const m: SnapshotMap = new Map([['a', '1'], ['b', '2'], ['c', '3']]);
  const first = mapSource(m);
  m.set('a', '10');
  m.delete('b');
  m.set('d', '4');
  const second = mapSource(m);
  m.set('b', '20'); // b again, at the end
  m.delete('c');
  m.set('a', '100');
  // A partly read view, then clear(): what it has not read yet is frozen as it was.
  const gen = (first.entries(undefined) as Iterable<Entry>)[Symbol.iterator]();
  t.same(String(gen.next().value!.key), 'a');
  m.clear();
  m.set('z', 'after clear');
  const rest: string[] = [];
  for (let step = gen.next(); !step.done; step = gen.next()) rest.push(`${String(step.value.key)}=${String(step.value.value)}`);
  t.same(rest, ['b=2', 'c=3'], 'the first view, after clear()');
  t.same(read(second), [['a', '10'], ['c', '3'], ['d', '4']], 'the second view');
  t.notOk(patched(m), 'no patches once both were read');
  t.same([...m], [['z', 'after clear']], 'the map itself as written');
});

t.test('a view stopped early, closed by hand, or read from a cursor', async (t) => {
  const m: SnapshotMap = new Map(Array.from({ length: 10 }, (_, i) => [`k${i}`, `v${i}`] as [string, string]));
  const stopped = mapSource(m);
  for (const e of stopped.entries(undefined) as Iterable<Entry>) if (e.key === 'k3') break;
  t.notOk(patched(m), 'stopping the reading closes the view');
  t.throws(() => [...(stopped.entries(undefined) as Iterable<Entry>)], { code: 'SNAP_ERR_INVALID_ARGUMENT' }, 'a closed view is not read again');
  const closed = mapSource(m);
  t.ok(patched(m));
  await closed.close!();
  t.notOk(patched(m), 'close() takes the patches away');
  const fromCursor = mapSource(m);
  m.set('k8', 'changed');
  t.same(read(fromCursor, 7), [['k7', 'v7'], ['k8', 'v8'], ['k9', 'v9']], 'resumed at a cursor, in the view');
});

t.test('an own set() the map had comes back; writes through it are seen', async (t) => {
  const m: SnapshotMap = new Map([['a', '1']]);
  const seen: string[] = [];
  const ownSet = function (this: SnapshotMap, k: string, v: string) {
    seen.push(k);
    return Map.prototype.set.call(this, k, v);
  };
  Object.defineProperty(m, 'set', { value: ownSet, writable: true, configurable: true });
  const view = mapSource(m);
  m.set('a', '2');
  t.same(read(view), [['a', '1']], 'the view');
  t.equal(m.set, ownSet, 'the own set() is back');
  t.same(seen, ['a'], 'and it ran');
  t.equal(m.get('a'), '2');
});

t.test('a view dropped unread is closed when it is collected', async (t) => {
  const m: SnapshotMap = new Map([['a', '1']]);
  (() => {
    mapSource(m);
  })();
  t.ok(patched(m), 'patched while the view may be read');
  // Collect until the finalizer has run (v8 flags let a test force a collection).
  const v8 = await import('node:v8');
  const vm = await import('node:vm');
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  for (let i = 0; i < 50 && patched(m); i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  t.notOk(patched(m), 'the patches went with the view');
});

t.test('a delete round the patches is a typed error', async (t) => {
  const m: SnapshotMap = new Map([['a', '1'], ['b', '2']]);
  const view = mapSource(m);
  Map.prototype.delete.call(m, 'b');
  t.throws(() => read(view), { code: 'SNAP_ERR_SOURCE_CHANGED' });
  t.notOk(patched(m));
});

t.test('the metadata is taken at the call', async (t) => {
  const state = { index: 7, term: 2 };
  const view = mapSource(new Map(), state);
  state.index = 8;
  t.same(await view.meta!(), { index: 7, term: 2 });
  await view.close!();
});
