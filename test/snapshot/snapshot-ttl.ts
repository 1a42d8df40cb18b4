/**
 * TTL through a snapshot file: writeSnapshot keeps each entry's absolute expiresAt, and
 * readSnapshot with `skipExpired` and `now` skips entries expired at restore time (at or before
 * `now`), returning the rest with their exact expiry; without `skipExpired` all come back.
 */
import t from 'tap';
import path from 'node:path';
import { readSnapshot, writeSnapshot, type DecodedEntry, type Entry, type ReadSnapshotOptions } from '../../lib/index.js';

const NOW = 1_760_000_000_000;
const COUNT = 8_000;

/** Entry i expires at NOW − 4000 + i (none for every 7th): those up to i = 4000 are expired at NOW. */
function* source(): Generator<Entry> {
  for (let i = 0; i < COUNT; i++) {
    const key = `key-${String(i).padStart(6, '0')}`;
    const value = i % 2 ? Buffer.from(`bytes-${i}`) : `text-${i}`;
    yield i % 7 === 0 ? { key, value } : { key, value, expiresAt: NOW - 4_000 + i };
  }
}

async function readAll(file: string, options: ReadSnapshotOptions): Promise<DecodedEntry[]> {
  const out: DecodedEntry[] = [];
  for await (const item of readSnapshot(file, options)) {
    if (Array.isArray(item)) out.push(...(item as DecodedEntry[]));
    else out.push(item as DecodedEntry);
  }
  return out;
}

for (const codec of ['zstd', 'lz4', 'none'] as const) {
  t.test(`codec ${codec}`, async (t) => {
    const file = path.join(t.testdir(), `ttl-${codec}.snap`);
    const summary = await writeSnapshot(source(), file, { codec, blockSize: 16 * 1024, meta: { index: 7 } });
    t.equal(summary.entries, COUNT);
    t.ok(summary.blocks > 10, 'several blocks');

    const all = await readAll(file, { now: NOW });
    t.equal(all.length, COUNT, 'without skipExpired every entry comes back');
    const expected = [...source()];
    let mismatches = 0;
    all.forEach((e, i) => {
      const w = expected[i]!;
      if (e.key !== w.key || e.expiresAt !== (w.expiresAt ?? undefined) || String(e.value) !== String(w.value)) mismatches++;
    });
    t.equal(mismatches, 0, 'keys, values and exact absolute expiry preserved');

    for (const batch of [false, true]) {
      const live = await readAll(file, { skipExpired: true, now: NOW, batch });
      const want = expected.filter((e) => e.expiresAt === undefined || e.expiresAt === null || e.expiresAt > NOW);
      t.equal(live.length, want.length, `batch ${batch}: only entries not yet expired`);
      t.ok(
        live.every((e) => e.expiresAt === undefined || e.expiresAt > NOW),
        `batch ${batch}: nothing at or before now`,
      );
      t.strictSame(
        live.map((e) => [e.key, e.expiresAt]),
        want.map((e) => [e.key, e.expiresAt ?? undefined]),
        `batch ${batch}: the survivors with their exact expiry`,
      );
      // The entry expiring exactly at NOW (i = 4000; 4000 % 7 !== 0) is gone, NOW + 1 is there.
      t.notOk(live.some((e) => e.key === 'key-004000'), `batch ${batch}: expiresAt === now is expired`);
      t.ok(live.some((e) => e.key === 'key-004001' && e.expiresAt === NOW + 1), `batch ${batch}: now + 1 is kept`);
    }
  });
}
