/**
 * SIGKILL a process in the middle of `store.prune` (a child running store-child.ts, stopped
 * exactly after the first file was removed, or after every file was removed but before the
 * list was saved): the store opens cleanly afterwards (stale lock taken over), lists exactly
 * the snapshots whose files exist — every one of them verifies, the two the policy keeps among
 * them, none lost that the policy did not choose — and no temporary list file is left behind. A
 * prune run again finishes the job.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { mapSource, DirectorySnapshotStore } from '../../lib/index.js';
import { startChild } from './fixtures/child.js';

async function storeWithSix(dir: string): Promise<string[]> {
  const store = await DirectorySnapshotStore.at(dir);
  const ids: string[] = [];
  for (let i = 1; i <= 6; i++) {
    const m = new Map(Array.from({ length: 200 }, (_, j) => [`k${j}`, `v${i}:${j}`] as [string, string]));
    ids.unshift((await store.create(mapSource(m), { index: i })).id);
  }
  await store.close();
  return ids; // newest first
}

const onDisk = (dir: string): string[] =>
  fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.snap'))
    .map((n) => n.slice(0, -5));

for (const crash of ['after-first-rm', 'before-list'] as const) {
  t.test(`killed during prune (${crash})`, async (t) => {
    const dir = t.testdir();
    const ids = await storeWithSix(dir);
    const child = startChild(['prune', dir, crash]);
    t.teardown(() => child.kill());
    await child.next('point');
    await child.kill();
    t.notOk(child.events.some((e) => e.event === 'pruned'), 'killed before prune returned');
    const left = onDisk(dir);
    if (crash === 'after-first-rm') t.equal(left.length, 5, 'one file removed');
    else t.same(left.sort(), ids.slice(0, 2).sort(), 'every chosen file removed');
    const saved = JSON.parse(fs.readFileSync(path.join(dir, 'store.json'), 'utf8')) as { snapshots: { id: string }[] };
    t.equal(saved.snapshots.length, 6, 'the list on disk still names all six');

    const store = await DirectorySnapshotStore.at(dir);
    t.teardown(() => store.close());
    const listed = (await store.list()).map((s) => s.id);
    t.same(listed, ids.filter((id) => left.includes(id)), 'listed: exactly the snapshots whose files exist, newest first');
    for (const id of ids.slice(0, 2)) t.ok(listed.includes(id), `${id}, kept by the policy, is there`);
    for (const id of listed) await t.resolves(store.verify(id), `${id} verifies`);
    const resaved = JSON.parse(fs.readFileSync(path.join(dir, 'store.json'), 'utf8')) as { snapshots: { id: string }[] };
    t.same(
      resaved.snapshots.map((s) => s.id),
      listed,
      'the list was saved as found',
    );
    t.same(
      fs.readdirSync(dir).filter((n) => n.includes('.tmp')),
      [],
      'no temporary list file left',
    );

    await store.prune({ maxSnapshots: 2 });
    t.same(
      (await store.list()).map((s) => s.id),
      ids.slice(0, 2),
      'a second prune finishes the job',
    );
    t.same(onDisk(dir).sort(), ids.slice(0, 2).sort());
  });
}
