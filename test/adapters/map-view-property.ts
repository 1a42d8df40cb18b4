/**
 * mapSource as a hostile application would use it, seeded: maps with keys of every kind
 * (strings empty, long, unicode, numeric-looking, crowding one spot of the view's key table;
 * numbers with NaN and -0; Buffers; objects), one or several views open at once, some opened
 * while another is half read, read in random steps, stopped early, closed by hand or dropped,
 * while random sets, deletes, clears, re-inserts, new keys and hot keys hit the map between the
 * reads. Every view must give exactly a copy of the map taken at its call (`new Map(map)`), and
 * once it ends hold none of the values it saved. Replay a failure with SNAPSTREAM_SEED=<seed>.
 */
import t, { type Test } from 'tap';
import v8 from 'node:v8';
import vm from 'node:vm';
import { mapSource, type Entry, type SnapshotMap, type SnapshotSource } from '../../lib/index.js';
import { hashText, MapView, openViews } from '../../lib/adapters/map-view.js';
import { mulberry32, testSeed } from '../fixtures/random.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

type AnyMap = Map<unknown, unknown>;
const patched = (m: AnyMap): boolean => Object.hasOwn(m, 'set') || Object.hasOwn(m, 'delete') || Object.hasOwn(m, 'clear');
const plain = (v: unknown): unknown => (typeof v === 'object' && v !== null && !Buffer.isBuffer(v) && 'value' in v ? (v as { value: unknown }).value : v);
const show = (k: unknown): string => (Buffer.isBuffer(k) ? `<Buffer ${k.toString('hex')}>` : typeof k === 'string' ? JSON.stringify(k.length > 40 ? `${k.slice(0, 20)}…(${k.length})` : k) : String(k));

/** The size of the key table a view of `n` keys has (as KeyTable sizes it). */
function tableSize(n: number): number {
  let cap = 16;
  while (cap < n * 1.34) cap *= 2;
  return cap;
}

/** `count` string keys whose hashes fall on one spot of a table of `cap` slots (some with the same tag too). */
const crowds = new Map<string, string[]>();
function crowd(count: number, cap: number, prefix: string): string[] {
  const known = crowds.get(`${count} ${cap} ${prefix}`);
  if (known) return known;
  const out: string[] = [];
  const spot = hashText(`${prefix}0`) & (cap - 1);
  const tag = hashText(`${prefix}0`) >>> 26;
  for (let j = 0; out.length < count; j++) {
    const k = `${prefix}${j}`;
    const h = hashText(k);
    // Every fourth with the same 6-bit tag: the probe has to compare the keys themselves.
    if ((h & (cap - 1)) === spot && (out.length % 4 !== 0 || h >>> 26 === tag)) out.push(k);
  }
  crowds.set(`${count} ${cap} ${prefix}`, out);
  return out;
}

/** A random world: keys of every kind, from pools so that keys come back after a delete. */
function world(rand: () => number, n: number) {
  const buffers = Array.from({ length: 64 }, (_, i) => Buffer.from(`buf${i}`));
  const objects = Array.from({ length: 64 }, (_, i) => ({ id: i }));
  const odd: unknown[] = ['', ' ', '0', '-0', '1', '1e3', 'NaN', 'undefined', 'ключ', '鍵', '🔑', '\ud800', 'a\u0000b', 'x'.repeat(5000), 'x'.repeat(4999) + 'y', `${'p'.repeat(4100)}end`, `${'p'.repeat(4100)}enD`];
  const numbers: unknown[] = [0, -0, 1, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, 4294967296];
  const crowded = crowd(48, tableSize(n), 'c');
  let fresh = 0;
  const key = (): unknown => {
    const r = rand();
    if (r < 0.45) return `k${Math.floor(rand() * n * 1.2)}`;
    if (r < 0.6) return crowded[Math.floor(rand() * crowded.length)];
    if (r < 0.7) return odd[Math.floor(rand() * odd.length)];
    if (r < 0.78) return numbers[Math.floor(rand() * numbers.length)];
    if (r < 0.86) return buffers[Math.floor(rand() * buffers.length)];
    if (r < 0.92) return objects[Math.floor(rand() * objects.length)];
    return `new${fresh++}`;
  };
  let serial = 0;
  const value = (): unknown => {
    const r = rand();
    const s = `v${serial++}`;
    if (r < 0.7) return s;
    if (r < 0.85) return Buffer.from(s);
    return { value: s, expiresAt: 1e12 + serial };
  };
  return { key, value };
}

interface Reader {
  source: SnapshotSource;
  it: Iterator<Entry>;
  want: [unknown, unknown][];
  at: number;
  name: string;
}

/**
 * One seeded run: writes between reads of up to `maxViews` views at once; returns the number of
 * views checked. Every entry a view hands out is compared with the copy taken at its call.
 */
function run(t: Test, seed: number, options: { n: number; steps: number; maxViews: number; clears: number }): number {
  const rand = mulberry32(seed);
  const { key, value } = world(rand, options.n);
  const map: AnyMap = new Map();
  while (map.size < options.n) map.set(key(), value());
  const deleted: unknown[] = [];
  const readers: Reader[] = [];
  let views = 0;
  let failures = 0;
  const fail = (msg: string): void => {
    if (failures++ < 5) t.fail(`seed ${seed}: ${msg}`);
  };
  const open = (): void => {
    const want = [...new Map(map)];
    const source = mapSource(map as SnapshotMap);
    const cursor = rand() < 0.1 ? Math.floor(rand() * want.length) : undefined;
    readers.push({ source, it: (source.entries(cursor) as Iterable<Entry>)[Symbol.iterator](), want, at: cursor ?? 0, name: `view ${views++}` });
  };
  const write = (): void => {
    const r = rand();
    if (r < 0.35) map.set(key(), value());
    else if (r < 0.55) {
      const k = key();
      if (map.delete(k)) deleted.push(k);
    } else if (r < 0.65 && deleted.length > 0) map.set(deleted.splice(Math.floor(rand() * deleted.length), 1)[0], value());
    else if (r < 0.75) {
      const k = key();
      map.delete(k);
      map.set(k, value());
    } else if (r < 0.85) {
      const k = key();
      for (let j = 1 + Math.floor(rand() * 20); j > 0; j--) map.set(k, value());
    } else if (r < 0.95) {
      // A key the views have just handed out, or are about to.
      const reader = readers[Math.floor(rand() * readers.length)];
      const near = reader?.want[reader.at - 1 + Math.floor(rand() * 3)];
      if (near) {
        if (rand() < 0.5) map.delete(near[0]);
        else map.set(near[0], value());
      }
    } else if (rand() < options.clears) {
      map.clear();
      for (let j = Math.floor(rand() * 50); j > 0; j--) map.set(key(), value());
    }
  };
  open();
  for (let step = 0; step < options.steps && failures === 0; step++) {
    for (let w = Math.floor(rand() * rand() * 40); w > 0; w--) write();
    const r = rand();
    if (readers.length < options.maxViews && r < 0.03) open();
    if (readers.length === 0) {
      open();
      continue;
    }
    const ri = Math.floor(rand() * readers.length);
    const reader = readers[ri]!;
    const what = rand();
    if (what < 0.01) {
      // Stopped early: return() (a failed or aborted snapshot), close(), or dropped unread.
      const how = rand();
      if (how < 0.4) reader.it.return!();
      else if (how < 0.8) void reader.source.close!();
      readers.splice(ri, 1);
      continue;
    }
    for (let k = Math.floor(rand() * rand() * 200); k >= 0; k--) {
      let got: IteratorResult<Entry>;
      try {
        got = reader.it.next();
      } catch (err) {
        fail(`${reader.name}: entry ${reader.at} threw ${String(err)}`);
        readers.splice(ri, 1);
        break;
      }
      if (got.done) {
        if (reader.at !== reader.want.length) fail(`${reader.name}: ended after ${reader.at} entries, want ${reader.want.length}`);
        readers.splice(ri, 1);
        break;
      }
      const [wk, wv] = reader.want[reader.at] ?? [undefined, undefined];
      if (!Object.is(got.value.key, wk) || got.value.value !== plain(wv)) {
        fail(`${reader.name}: entry ${reader.at} is ${show(got.value.key)}=${show(got.value.value)}, want ${show(wk)}=${show(plain(wv))}`);
      }
      reader.at++;
    }
  }
  // The rest read to the end.
  for (const reader of readers) {
    try {
      for (let got = reader.it.next(); !got.done; got = reader.it.next()) {
        const [wk, wv] = reader.want[reader.at] ?? [undefined, undefined];
        if (!Object.is(got.value.key, wk) || got.value.value !== plain(wv)) fail(`${reader.name}: entry ${reader.at} differs`);
        reader.at++;
      }
    } catch (err) {
      fail(`${reader.name}: entry ${reader.at} threw ${String(err)}`);
    }
    if (reader.at !== reader.want.length) fail(`${reader.name}: ${reader.at} entries, want ${reader.want.length}`);
  }
  if (failures === 0) t.pass(`seed ${seed}: ${views} views exact`);
  return views;
}

t.test('random writes between random reads of several views', async (t) => {
  const seed = testSeed(t, 20261207);
  for (let s = 0; s < 40; s++) run(t, seed + s, { n: 300 + ((seed + s) % 7) * 100, steps: 600, maxViews: 3, clears: 0.05 });
});

t.test('a big view with few clears: the table fills, keys spill', async (t) => {
  const seed = testSeed(t, 31337);
  for (let s = 0; s < 3; s++) run(t, seed + s, { n: 4_000, steps: 3_000, maxViews: 2, clears: 0.002 });
});

t.test('a clear() right after the view handed out a key that was then deleted', async (t) => {
  // The view has handed out 'a' (the generator waits at its yield), the application deletes
  // it, then clears the map: the clear must clear, and the view go on as of its call.
  for (const key of ['a', Buffer.from('a'), 1] as const) {
    const map = new Map<unknown, unknown>([[key, '1'], ['b', '2'], ['c', '3']]);
    const it = (mapSource(map as SnapshotMap).entries(undefined) as Iterable<Entry>)[Symbol.iterator]();
    t.equal(it.next().value?.value, '1');
    map.delete(key);
    t.doesNotThrow(() => map.clear(), `clear() after ${show(key)} was read and deleted`);
    t.equal(map.size, 0, 'the map is cleared');
    t.same([...{ [Symbol.iterator]: () => it }].map((e) => e.value), ['2', '3'], 'the rest of the view');
  }
  // The same through a MapView read by hand.
  const map = new Map<unknown, unknown>([['a', '1'], ['b', '2']]);
  const view = new MapView(map);
  t.equal(view.valueAt(0), '1');
  map.delete('a');
  t.doesNotThrow(() => map.clear());
  t.equal(view.valueAt(1), '2');
  view.close();
});

t.test('a table 80% full, then writes to every key, read and unread', async (t) => {
  const n = 3_000;
  const map = new Map<unknown, unknown>(Array.from({ length: n }, (_, i) => [`k${i}`, `v${i}`] as const));
  const want = [...new Map(map)];
  const view = new MapView(map);
  const got: unknown[] = [];
  for (let i = 0; i < n / 3; i++) got.push(view.valueAt(i));
  // New keys written twice: each takes a slot (saved), until the table takes no more.
  for (let i = 0; i < tableSize(n); i++) map.set(`fill${i}`, 'a');
  for (let i = 0; i < tableSize(n); i++) map.set(`fill${i}`, 'b');
  for (let i = 0; i < n; i += 2) map.set(`k${i}`, 'over');
  for (let i = 1; i < n; i += 6) map.delete(`k${i}`);
  for (let i = 1; i < n; i += 12) map.set(`k${i}`, 'back');
  for (let i = n / 3; i < n; i++) {
    got.push(view.valueAt(i));
    if (i % 5 === 0) map.set(`k${i}`, 'after its read');
  }
  t.same(got, want.map(([, v]) => v), 'every value as at the view');
  view.close();
  t.equal(openViews(map), 0);
});

t.test('crowded spots: more keys on one slot than the probes allowed, read in between', async (t) => {
  const n = 600;
  const crowded = crowd(120, tableSize(n), 'q');
  const keys = [...crowded.slice(0, 60), ...Array.from({ length: n - 60 }, (_, i) => `o${i}`)];
  const map = new Map<unknown, unknown>(keys.map((k, i) => [k, `v${i}`]));
  const want = [...new Map(map)];
  const view = new MapView(map);
  const got: unknown[] = [];
  for (let i = 0; i < 30; i++) got.push(view.valueAt(i));
  for (const k of crowded) map.set(k, 'x'); // new crowded keys too: they take the slots of the spot
  for (const k of crowded) map.set(k, 'y');
  for (let i = 0; i < 60; i += 3) map.delete(crowded[i]);
  for (let i = 30; i < n; i++) got.push(view.valueAt(i));
  t.same(got, want.map(([, v]) => v));
  view.close();
});

t.test('a second view opened while the first is half read, and the first stopped', async (t) => {
  const map = new Map<unknown, unknown>(Array.from({ length: 100 }, (_, i) => [`k${i}`, `v${i}`] as const));
  const a = mapSource(map as SnapshotMap);
  const ita = (a.entries(undefined) as Iterable<Entry>)[Symbol.iterator]();
  for (let i = 0; i < 50; i++) ita.next();
  for (let i = 0; i < 100; i += 2) map.set(`k${i}`, `w${i}`);
  const wantB = [...new Map(map)].map(([, v]) => v);
  const b = mapSource(map as SnapshotMap);
  const itb = (b.entries(undefined) as Iterable<Entry>)[Symbol.iterator]();
  for (let i = 0; i < 100; i += 3) map.delete(`k${i}`);
  t.same(ita.next().value?.value, 'v50');
  ita.return!(undefined);
  t.equal(openViews(map), 1, 'the second view is open');
  for (let i = 0; i < 100; i += 5) map.set(`k${i}`, 'later');
  t.same([...{ [Symbol.iterator]: () => itb }].map((e) => e.value), wantB);
  t.equal(openViews(map), 0);
  t.notOk(patched(map));
});

/** Values still alive (deref() keeps a target alive until the job ends: collect() collects in a new one). */
const held = (refs: WeakRef<object>[]): number => refs.filter((r) => r.deref() !== undefined).length;

/** Collects until `done()` or gives up, each time in a new job: targets of a WeakRef created or deref()ed in a job live until it ends. */
async function collect(done: () => boolean): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    if (done()) return;
  }
}

t.test('saved values are released once read, and all of them once the view ends', async (t) => {
  for (const end of ['read to the end', 'return()', 'close()', 'dropped', 'clear()'] as const) {
    const n = 200;
    const map = new Map<unknown, unknown>();
    for (let i = 0; i < n; i++) map.set(i % 4 === 0 ? Buffer.from(`b${i}`) : i % 4 === 1 ? i : `k${i}`, Buffer.from(`v${i}`));
    const keys = [...map.keys()];
    let source: SnapshotSource | null = mapSource(map as SnapshotMap);
    let it: Iterator<Entry> | null = (source.entries(undefined) as Iterable<Entry>)[Symbol.iterator]();
    for (let i = 0; i < n / 2; i++) it.next();
    // Each key overwritten (its old value saved only while not read) and deleted or not.
    const refs: WeakRef<object>[] = [];
    const unread: WeakRef<object>[] = [];
    keys.forEach((k, i) => {
      // (The last entry handed out stays in the suspended generator's frame.)
      if (i !== n / 2 - 1) (i < n / 2 ? refs : unread).push(new WeakRef(map.get(k) as object));
      map.set(k, Buffer.from(`w${i}`));
      if (i % 3 === 0) map.delete(k);
    });
    await collect(() => held(refs) <= n / 4);
    // Only string keys are noted read: a later write to a Buffer or number key read already
    // still saves (docs/CONSISTENCY.md), until the view ends.
    t.ok(held(refs) <= n / 4, `${held(refs)} held: ${end}: no value of a string key read already is held`);
    t.equal(held(unread), n / 2, `${end}: the unread ones are, while the view is open`);
    if (end === 'read to the end') for (let s = it.next(); !s.done; s = it.next());
    else if (end === 'return()') it.return!(undefined);
    else if (end === 'clear()') {
      map.clear();
      for (let s = it.next(); !s.done; s = it.next());
    } else if (end === 'dropped') {
      it = null;
      source = null;
    } else await source.close!();
    await collect(() => held(unread) + held(refs) === 0 && !patched(map));
    t.ok(held(unread) + held(refs) === 0, `${held(unread) + held(refs)} held: ${end}: nothing saved is held once the view ended`);
    t.notOk(patched(map), `${end}: no patches left`);
  }
});

t.test('a view closed by hand releases its saved values', async (t) => {
  const map = new Map<unknown, unknown>(Array.from({ length: 100 }, (_, i) => [`k${i}`, Buffer.from(`v${i}`)] as const));
  const source = mapSource(map as SnapshotMap);
  const refs = [...map.values()].map((v) => new WeakRef(v as object));
  for (const k of [...map.keys()]) map.set(k, 'new');
  await source.close!();
  await collect(() => held(refs) === 0);
  t.equal(held(refs), 0, 'no value saved is held');
});

t.test('after clear(), the view holds the values it has not handed out, not the old map', async (t) => {
  const n = 1_000;
  const map = new Map<unknown, unknown>(Array.from({ length: n }, (_, i) => [`k${i}`, Buffer.from(`v${i}`)] as const));
  const view = new MapView(map);
  const read = [...map.values()].slice(0, n - 10).map((v) => new WeakRef(v as object));
  for (let i = 0; i < n - 10; i++) view.valueAt(i);
  map.clear();
  await collect(() => held(read) === 0);
  t.ok(held(read) === 0, `${held(read)} held: the values handed out before the clear are not held (the live walk of the old map is dropped)`);
  for (let i = n - 10; i < n; i++) t.same(view.valueAt(i), Buffer.from(`v${i}`));
  view.close();
});

t.test('a view read twice, or closed while a generator reads it, fails loudly instead of handing out other values', async (t) => {
  const map = new Map<unknown, unknown>(Array.from({ length: 10 }, (_, i) => [`k${i}`, `v${i}`] as const));
  const source = mapSource(map as SnapshotMap);
  const first = (source.entries(undefined) as Iterable<Entry>)[Symbol.iterator]();
  for (let i = 0; i < 5; i++) first.next();
  map.set('k1', 'changed after it was read');
  // A second reading of the same open view from the start: k1 was read, its later write saved
  // nothing, so the view no longer knows k1's value as of its call.
  const again = (source.entries(undefined) as Iterable<Entry>)[Symbol.iterator]();
  t.throws(() => {
    for (let s = again.next(); !s.done; s = again.next()) t.not(s.value.value, 'changed after it was read', `${String(s.value.key)} as at the view`);
  }, { code: 'SNAP_ERR_INVALID_ARGUMENT' }, 'an entry handed out already is not handed out again');
  t.throws(() => first.next(), { code: 'SNAP_ERR_INVALID_ARGUMENT' }, 'the first reading, its view closed, fails');

  const other = mapSource(map as SnapshotMap);
  const it = (other.entries(undefined) as Iterable<Entry>)[Symbol.iterator]();
  it.next();
  await other.close!();
  t.throws(() => it.next(), { code: 'SNAP_ERR_INVALID_ARGUMENT' }, 'a generator whose view was closed under it does not end as if it had read every entry');
});

t.test('a map whose methods cannot be patched is refused with a typed error, nothing left patched', async (t) => {
  const frozen = Object.freeze(new Map<unknown, unknown>([['a', '1']]));
  t.throws(() => mapSource(frozen as SnapshotMap), { code: 'SNAP_ERR_INVALID_ARGUMENT' }, 'a frozen map');
  const stuck = new Map<unknown, unknown>([['a', '1']]);
  Object.defineProperty(stuck, 'clear', { value: Map.prototype.clear, writable: false, configurable: false });
  t.throws(() => mapSource(stuck as SnapshotMap), { code: 'SNAP_ERR_INVALID_ARGUMENT' }, 'an own clear() that cannot be redefined');
  t.notOk(Object.hasOwn(stuck, 'set') || Object.hasOwn(stuck, 'delete'), 'set and delete not patched');
  t.equal(openViews(stuck), 0);
});

t.test('a key deleted round the patches, then clear(): the snapshot fails where it reaches the key, the clear() clears', async (t) => {
  const map = new Map<unknown, unknown>([['a', '1'], ['b', '2'], ['c', '3']]);
  const it = (mapSource(map as SnapshotMap).entries(undefined) as Iterable<Entry>)[Symbol.iterator]();
  t.equal(it.next().value?.value, '1');
  Map.prototype.delete.call(map, 'c');
  t.doesNotThrow(() => map.clear(), "the application's clear() does not fail for the snapshot");
  t.equal(map.size, 0);
  t.equal(it.next().value?.value, '2', 'the entries before the key');
  t.throws(() => it.next(), { code: 'SNAP_ERR_SOURCE_CHANGED' }, 'the reading fails at the key');
  t.notOk(patched(map));
});

t.test('a cursor that is no entry count is refused, not read as an empty or changed source', async (t) => {
  const map = new Map<unknown, unknown>([['a', '1'], ['b', '2'], ['c', '3']]);
  for (const cursor of [1.5, Infinity, 4]) {
    const source = mapSource(map as SnapshotMap);
    t.throws(() => [...(source.entries(cursor) as Iterable<Entry>)], { code: 'SNAP_ERR_INVALID_ARGUMENT' }, `cursor ${cursor}`);
    await source.close!();
  }
  const source = mapSource(map as SnapshotMap);
  t.same([...(source.entries(3) as Iterable<Entry>)], [], 'the count of every entry: nothing left');
  t.equal(openViews(map), 0);
});
