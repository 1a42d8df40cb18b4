/**
 * Expiry through a store and the Map adapter: restore skips the entries whose absolute expiry
 * has passed by the restore's `now` (an expiry at exactly `now` has passed), counts them in
 * `result.expired`, and gives the rest back with their expiry exactly as it was — absolute, not
 * shifted by the time between snapshot and restore — as `{ value, expiresAt }`; entries without
 * expiry come back as plain values; string and Buffer keys and values keep their types.
 */
import t from 'tap';
import path from 'node:path';
import { mapApplier, mapSource, DirectorySnapshotStore, type SnapshotMap } from '../../lib/index.js';

const T = 1_900_000_000_000; // the restore's "now"
const DAY = 86_400_000;

function source(): SnapshotMap {
  const m: SnapshotMap = new Map();
  m.set('plain', 'no expiry');
  m.set('expired-long-ago', { value: 'gone', expiresAt: T - DAY });
  m.set('expired-just', { value: 'gone', expiresAt: T - 1 });
  m.set('expires-now', { value: 'gone', expiresAt: T });
  m.set('expires-soon', { value: 'kept', expiresAt: T + 1 });
  m.set('expires-later', { value: 'kept', expiresAt: T + 30 * DAY });
  m.set(Buffer.from([0, 1, 2]), { value: Buffer.from([9, 8, 7]), expiresAt: T + 5 });
  m.set(Buffer.from([3, 4]), { value: Buffer.from([6]), expiresAt: T - 5 });
  m.set('no-expiry-field', { value: 'wrapped without expiry' });
  for (let i = 0; i < 2000; i++) m.set(`bulk:${i}`, { value: `v${i}`, expiresAt: i % 2 === 0 ? T - i : T + i + 1 });
  return m;
}

t.test('restore skips what has expired and keeps the rest of the expiries as they were', async (t) => {
  const store = await DirectorySnapshotStore.at(path.join(t.testdir(), 'store'));
  t.teardown(() => store.close());
  const original = source();
  const snap = await store.create(mapSource(original));
  t.equal(snap.entries, original.size, 'every entry stored, expired or not (the snapshot is taken before T)');

  const live: SnapshotMap = new Map([['stale', 'state before the restore']]);
  const result = await store.restore(mapApplier(live), { now: T });

  const expiredKeys = ['expired-long-ago', 'expired-just', 'expires-now'];
  const want: SnapshotMap = new Map();
  want.set('plain', 'no expiry');
  want.set('expires-soon', { value: 'kept', expiresAt: T + 1 });
  want.set('expires-later', { value: 'kept', expiresAt: T + 30 * DAY });
  want.set(Buffer.from([0, 1, 2]), { value: Buffer.from([9, 8, 7]), expiresAt: T + 5 });
  want.set('no-expiry-field', 'wrapped without expiry');
  for (let i = 1; i < 2000; i += 2) want.set(`bulk:${i}`, { value: `v${i}`, expiresAt: T + i + 1 });

  t.equal(result.expired, expiredKeys.length + 1 + 1000, 'expired entries counted');
  t.equal(result.entries, want.size, 'the rest restored');
  t.notOk(live.has('stale'), 'the live map was replaced');
  for (const k of expiredKeys) t.notOk(live.has(k), `${k} skipped`);
  // Buffer keys: compare by content.
  const byContent = (m: SnapshotMap): [string, unknown][] =>
    [...m].map(([k, v]) => [Buffer.isBuffer(k) ? `buf:${k.toString('hex')}` : `str:${k}`, v] as [string, unknown]).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  t.same(byContent(live), byContent(want), 'exactly the live entries, expiries unchanged');
  t.equal(live.get('plain'), 'no expiry', 'a plain value comes back plain');
  t.same(live.get('expires-later'), { value: 'kept', expiresAt: T + 30 * DAY }, 'expiry absolute, as it was');
  const bufferEntry = [...live].find(([k]) => Buffer.isBuffer(k));
  t.ok(bufferEntry && Buffer.isBuffer((bufferEntry[1] as { value: unknown }).value), 'Buffer keys and values stay Buffers');
  t.type(live.get('bulk:1'), 'object');
  t.type((live.get('bulk:1') as { value: unknown }).value, 'string', 'strings stay strings');

  // A later restore of the same snapshot: more has expired; what is left still keeps its expiry.
  const later: SnapshotMap = new Map();
  const second = await store.restore(mapApplier(later), { now: T + 1000 });
  // Live at T + 1000: plain, expires-later, no-expiry-field, and bulk:1001, 1003, … 1999.
  t.equal(second.entries, 3 + 500, 'fewer entries live a second later');
  t.notOk(later.has('expires-soon'));
  t.same(later.get('expires-later'), { value: 'kept', expiresAt: T + 30 * DAY });
  t.same(later.get('bulk:1999'), { value: 'v1999', expiresAt: T + 2000 });
  t.notOk(later.has('bulk:999'), 'bulk:999 expires at T + 1000, exactly now: expired');
  t.same(later.get('bulk:1001'), { value: 'v1001', expiresAt: T + 1002 }, 'bulk:1001 expires at T + 1002: kept');
});
