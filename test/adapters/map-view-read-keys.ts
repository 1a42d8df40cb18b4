/**
 * A write to a key the view has already read saves nothing: the view is done with that key.
 * Before, every first write to a key while a view was open saved the value it replaced, read or
 * not — with a long (background) snapshot beside a busy writer, a reference to every value of
 * the map, and a hash lookup per write to file it. The view's values stay exact whatever is
 * written, for string keys (the table of keys read), Buffer keys (not in it), long keys, and
 * keys crowding one spot of the table.
 */
import t, { type Test } from 'tap';
import { hashText, MapView } from '../../lib/adapters/map-view.js';

/** Reads half the view, overwrites and moves keys, reads the rest: the view's values are those at its opening. */
function exact(t: Test, keys: unknown[]): number {
  const map = new Map<unknown, unknown>();
  keys.forEach((k, i) => map.set(k, `v${i}`));
  const view = new MapView(map);
  const half = Math.floor(keys.length / 2);
  const got: unknown[] = [];
  for (let i = 0; i < half; i++) got.push(view.valueAt(i));
  for (let round = 0; round < 2; round++) keys.forEach((k, i) => map.set(k, `w${round}:${i}`));
  for (let i = 0; i < keys.length; i += 7) {
    map.delete(keys[i]);
    map.set(keys[i], `moved${i}`);
  }
  const saved = view.savedValues;
  for (let i = half; i < keys.length; i++) got.push(view.valueAt(i));
  t.same(got, keys.map((_, i) => `v${i}`), 'the view holds the values as of its opening');
  view.close();
  return saved;
}

t.test('string keys: writes behind the reader save nothing', async (t) => {
  const keys = Array.from({ length: 2_000 }, (_, i) => `key:${i}`);
  const map = new Map<unknown, unknown>(keys.map((k, i) => [k, `v${i}`]));
  const view = new MapView(map);
  for (let i = 0; i < 1_000; i++) t.equal(view.valueAt(i), `v${i}`);
  for (const k of keys) map.set(k, 'new');
  t.equal(view.savedValues, 1_000, 'only the values of the keys not read yet are saved');
  let wrong = 0;
  for (let i = 1_000; i < 2_000; i++) if (view.valueAt(i) !== `v${i}`) wrong++;
  t.equal(wrong, 0, 'the keys read after the writes have their old values');
  t.equal(view.savedValues, 0, 'a saved value is dropped once read');
  view.close();
});

t.test('values stay exact for string, Buffer and long keys', async (t) => {
  t.equal(exact(t, Array.from({ length: 1_000 }, (_, i) => `key:${i}`)), 500, 'string keys: the unread half saved');
  t.equal(exact(t, Array.from({ length: 1_000 }, (_, i) => Buffer.from(`buffer:${i}`))), 1_000, 'Buffer keys: all saved, as before');
  const prefix = 'p'.repeat(5_000);
  t.equal(exact(t, Array.from({ length: 200 }, (_, i) => `${prefix}${'s'.repeat(70)}${i}`)), 100, 'keys over 4096 characters (hashed on their start, length and end)');
});

t.test('keys crowding one spot of the table count as unread: saved, still exact', async (t) => {
  // A view of 300 keys has a table of 512 slots: 60 keys of one slot, more than the probes allowed.
  const crowd: string[] = [];
  for (let j = 0; crowd.length < 60; j++) if ((hashText(`c${j}`) & 511) === 0) crowd.push(`c${j}`);
  const others = Array.from({ length: 240 }, (_, i) => `o${i}`);
  const keys = [...crowd, ...others];
  const saved = exact(t, keys);
  t.ok(saved > 150, `keys read but not in the table were saved again (${saved})`);
});
