/**
 * Two processes opening one store: while the first lives, the second is refused with
 * SNAP_ERR_LOCKED (this process while a child holds it, a child while this process holds it);
 * once the holder is SIGKILLed its lock is stale and the next opener takes it over; a clean
 * close releases it. And processes racing to open one store at the same moment — for a stale
 * lock left by a dead process — never both get it: exactly one wins each round. That they did
 * race is made certain, not left to the scheduler: every racer waits, once it has found the
 * round's lock stale, until all the others have too, and only then goes for the takeover.
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { DirectorySnapshotStore } from '../../lib/index.js';
import { startChild, type Child, type ChildEvent } from './fixtures/child.js';

const lockPid = (dir: string): number => (JSON.parse(fs.readFileSync(path.join(dir, 'LOCK'), 'utf8')) as { pid: number }).pid;

async function outcome(child: Child): Promise<ChildEvent> {
  return Promise.race([child.next('opened'), child.next('refused')]);
}

t.test('refused while the holder lives; a SIGKILLed holder is taken over', async (t) => {
  const dir = t.testdir();
  const first = startChild(['open', dir]);
  t.teardown(() => first.kill());
  t.equal((await outcome(first)).event, 'opened', 'a child process holds the store');
  t.equal(lockPid(dir), first.process.pid);

  await t.rejects(DirectorySnapshotStore.at(dir), { code: 'SNAP_ERR_LOCKED', message: new RegExp(`process ${first.process.pid}`) }, 'refused here');
  t.equal(lockPid(dir), first.process.pid, 'the refused opener left the lock alone');

  await first.kill();
  t.equal(lockPid(dir), first.process.pid, 'the killed process left its lock behind');
  const store = await DirectorySnapshotStore.at(dir);
  t.equal(lockPid(dir), process.pid, 'the stale lock was taken over');
  await t.rejects(DirectorySnapshotStore.at(dir), { code: 'SNAP_ERR_LOCKED' }, 'a second open in one process is refused too');

  const other = startChild(['open', dir]);
  t.teardown(() => other.kill());
  t.match(await outcome(other), { event: 'refused', code: 'SNAP_ERR_LOCKED' }, 'a child is refused while this process holds it');
  t.equal(await other.exited, 0);
  t.equal(lockPid(dir), process.pid, 'still ours');

  await store.close();
  t.notOk(fs.existsSync(path.join(dir, 'LOCK')), 'close releases the lock');
  t.same(
    fs.readdirSync(dir).filter((n) => n.includes('LOCK')),
    [],
    'and leaves no lock file of any kind',
  );
  const again = await DirectorySnapshotStore.at(dir);
  await again.close();
});

t.test('processes racing for a stale lock: exactly one wins each round', async (t) => {
  const dir = t.testdir();
  const ROUNDS = 8;
  // The lock a killed process leaves: its record, naming a pid that is no longer alive.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid;
  for (let r = 0; r < ROUNDS; r++) {
    fs.mkdirSync(path.join(dir, String(r)));
    fs.writeFileSync(path.join(dir, String(r), 'LOCK'), JSON.stringify({ pid: dead, host: os.hostname(), since: Date.now() - 1000 }));
  }
  const RACERS = 3;
  const racers = Array.from({ length: RACERS }, () => startChild(['race', dir, String(ROUNDS), String(RACERS)]));
  t.teardown(() => Promise.all(racers.map((r) => r.kill())));
  await Promise.all(racers.map((r) => r.next('ready')));
  fs.writeFileSync(path.join(dir, 'go'), String(Date.now() + 100));
  await Promise.all(racers.map((r) => r.next('done')));
  for (let r = 0; r < ROUNDS; r++) {
    // They raced: each found the lock stale and went for the takeover while all the others had too.
    const raced = racers.filter((c) => c.events.some((e) => e.event === 'at-takeover' && e.round === r));
    t.equal(raced.length, RACERS, `round ${r}: all ${RACERS} were taking the stale lock over at once`);
    const results = racers.map((c) => c.events.find((e) => e.round === r && e.event !== 'at-takeover')!);
    const winners = results.filter((e) => e.event === 'opened');
    t.equal(winners.length, 1, `round ${r}: one winner (${results.map((e) => e.event).join(', ')})`);
    t.ok(
      results.every((e) => e.event === 'opened' || e.code === 'SNAP_ERR_LOCKED'),
      `round ${r}: the others refused with SNAP_ERR_LOCKED`,
    );
    t.equal(lockPid(path.join(dir, String(r))), winners[0]?.pid, `round ${r}: the lock names the winner`);
  }
});
