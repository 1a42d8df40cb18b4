/**
 * SIGKILL a process in the middle of `store.restore` into a LevelDB (classic-level, through
 * levelApplier): while the fresh database is being filled, just after the live one was moved
 * aside, just after the new one was put in place, and at a random moment. Afterwards
 * recoverLevel + open gives a database holding exactly the old state or exactly the full new
 * state — never a mix, never a missing database — with nothing left beside it; the store opens
 * cleanly (stale lock taken over) with its snapshot listed and verifying; and restoring again
 * installs the new state.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { levelApplier, mapSource, recoverLevel, DirectorySnapshotStore } from '../../lib/index.js';
import { killRestore } from './fixtures/child.js';
import { newState, oldState } from './fixtures/data.mjs';
import { diff, dump, fill, openDb } from './fixtures/level.js';

const OLD = oldState();
const NEW = newState();
const options = { write: { codec: 'lz4' as const, blockSize: 64 * 1024 } };

const cases: [string, 'old' | 'new' | 'either', number?][] = [
  ['fill', 'old'],
  ['swapped', 'old'],
  ['installed', 'new'],
  ['none', 'either', 15],
];

for (const [crash, expect, delay] of cases) {
  t.test(`killed during restore into LevelDB (${crash === 'none' ? `${delay} ms into it` : crash})`, async (t) => {
    const dir = t.testdir({ snapshots: {} });
    const storeDir = path.join(dir, 'snapshots');
    const location = path.join(dir, 'db');
    const store = await DirectorySnapshotStore.at(storeDir, options);
    const snap = await store.create(mapSource(NEW), { index: 9 });
    await store.close();
    await fill(location, OLD);

    const child = await killRestore(t, ['restore-level', storeDir, location, crash], `${location}.restoring`, delay);

    await recoverLevel(location);
    t.same(
      fs.readdirSync(dir).sort(),
      ['db', 'snapshots'],
      'only the database and the store are left',
    );
    const db = await openDb(location);
    const state = await dump(db);
    await db.close();
    const isOld = diff(state, OLD).length === 0;
    const isNew = diff(state, NEW).length === 0;
    if (expect === 'old') t.ok(isOld, `the old state, whole: ${diff(state, OLD).join('; ')}`);
    else if (expect === 'new') t.ok(isNew, `the new state, whole: ${diff(state, NEW).join('; ')}`);
    else t.ok(isOld || isNew, `old or new, never a mix (${state.size} keys; restored: ${child.events.some((e) => e.event === 'restored')})`);

    const again = await DirectorySnapshotStore.at(storeDir, options);
    t.teardown(() => again.close());
    t.same(
      (await again.list()).map((s) => s.id),
      [snap.id],
      'the snapshot is still listed',
    );
    await again.verify(snap.id);
    const handle = { location, db: await openDb(location), open: openDb };
    t.teardown(() => handle.db.close());
    const result = await again.restore(levelApplier(handle));
    t.equal(result.snapshot.id, snap.id);
    t.same(diff(await dump(handle.db), NEW), [], 'restoring again installs the new state');
  });
}
