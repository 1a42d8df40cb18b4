/**
 * A view saves one value per key it has not read yet, the first one a write replaces, and a
 * later write to that key costs nothing more: one table answers "read already?" and "saved
 * already?" in one probe. Before, every write to a key not read yet logged the value it
 * replaced, saved or not, and the log held those values until the reader filed it — a writer
 * hammering one key kept every value it replaced alive. Keys the table does not take (Buffer
 * keys, a full table) are saved beside it, first value wins, and the view stays exact.
 */
import t from 'tap';
import v8 from 'node:v8';
import vm from 'node:vm';
import { MapView } from '../../lib/adapters/map-view.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const MiB = 1024 * 1024;
const external = (): number => {
  gc();
  gc();
  return process.memoryUsage().arrayBuffers;
};

for (const [name, key] of [
  ['a string key', 'k5'],
  ['a Buffer key', Buffer.from('k5')],
] as const) {
  t.test(`${name} written 64 times before the view reads it keeps one value alive, not 64`, async (t) => {
    const map = new Map<unknown, unknown>();
    for (let i = 0; i < 10; i++) map.set(i === 5 ? key : `k${i}`, i === 5 ? 'first' : `v${i}`);
    const view = new MapView(map);
    const before = external();
    // Each write replaces a 1 MiB Buffer the one before put in.
    for (let w = 0; w < 64; w++) map.set(key, Buffer.alloc(MiB, w));
    const held = (external() - before) / MiB;
    t.ok(held < 4, `${held.toFixed(1)} MiB held: the map's own value and nothing of the values replaced`);
    t.equal(view.savedValues, 1, 'one value saved');
    const got = Array.from({ length: 10 }, (_, i) => view.valueAt(i));
    t.same(got, Array.from({ length: 10 }, (_, i) => (i === 5 ? 'first' : `v${i}`)), 'the view as at its opening');
    t.equal(view.savedValues, 0, 'dropped once read');
    view.close();
  });
}

t.test('a table filled by keys inserted after the view: the rest is saved beside it, the view stays exact', async (t) => {
  const map = new Map<unknown, unknown>();
  for (let i = 0; i < 100; i++) map.set(`k${i}`, `v${i}`);
  const view = new MapView(map); // a table of 256 slots
  for (let i = 0; i < 20; i++) t.equal(view.valueAt(i), `v${i}`);
  // New keys, each overwritten: their replaced values are saved (the view cannot tell them
  // from its own keys) until the table is full.
  for (let i = 0; i < 1_000; i++) map.set(`new${i}`, 'a');
  for (let i = 0; i < 1_000; i++) map.set(`new${i}`, 'b');
  for (let round = 0; round < 3; round++) for (let i = 0; i < 100; i++) map.set(`k${i}`, `w${round}`);
  for (let i = 0; i < 100; i += 3) map.delete(`k${i}`);
  for (let i = 0; i < 100; i += 9) map.set(`k${i}`, 'back, at the end');
  t.equal(view.savedValues, 1_000 + 80, 'every key written before it was read, once');
  const got = Array.from({ length: 80 }, (_, i) => view.valueAt(20 + i));
  t.same(got, Array.from({ length: 80 }, (_, i) => `v${20 + i}`), 'the keys read after the writes have their old values');
  t.equal(view.savedValues, 1_000, 'the view keys saved are dropped once read (those of new keys stay until it closes)');
  for (let i = 0; i < 20; i++) map.set(`k${i}`, 'after');
  t.equal(view.savedValues, 1_000, 'writes to keys read while the table had room save nothing');
  view.close();
});
