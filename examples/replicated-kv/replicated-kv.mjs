// A replicated key-value store in miniature, the way Raft uses snapshots:
//  - the leader applies writes to a LevelDB (classic-level) and keeps an applied index;
//  - a CheckpointScheduler snapshots it into a DirectorySnapshotStore every N writes, in the background;
//  - a follower runs a snapshot server that receives straight into its own store (HMAC auth);
//  - the leader ships its latest snapshot to the follower over TCP;
//  - the follower restores it into its LevelDB (built aside, swapped in atomically) and serves
//    reads over HTTP; we read them back and compare with the leader's state at that index.
//
// Run: node examples/replicated-kv/replicated-kv.mjs [--writes 20000]
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ClassicLevel } from 'classic-level';
import {
  CheckpointScheduler,
  DirectorySnapshotStore,
  createSnapshotServer,
  levelApplier,
  levelSource,
  sendSnapshot,
} from 'snapstream';

const writesArg = process.argv.indexOf('--writes');
const WRITES = writesArg > 0 ? Number(process.argv[writesArg + 1]) : 20_000;
const root = await fs.mkdtemp(path.join(os.tmpdir(), 'replicated-kv-'));
const openDb = async (location) => {
  const db = new ClassicLevel(location, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  return db;
};

// ---- leader ----
const leader = { db: await openDb(path.join(root, 'leader-db')), index: 0 };
const leaderStore = await DirectorySnapshotStore.at(path.join(root, 'leader-snapshots'), { retention: { maxSnapshots: 3 } });
// Each snapshot reads one consistent view of the database (an iterator) while writes go on.
const scheduler = new CheckpointScheduler({
  store: leaderStore,
  everyEntries: Math.max(1, Math.floor(WRITES / 4)),
  source: () => levelSource(leader.db, { index: leader.index, term: 1 }),
});
let failures = 0;
scheduler.on('failure', (err) => {
  failures++;
  console.error('checkpoint failed:', err);
});
scheduler.start();

for (let i = 1; i <= WRITES; i++) {
  await leader.db.put(`user:${i % 5000}`, JSON.stringify({ v: i, at: i }));
  leader.index = i;
  scheduler.noteApplied(1);
}
// Stop the scheduler (waiting for a snapshot under way), then take one more at the final index:
// the follower will get exactly the leader's current state.
await scheduler.stop();
await scheduler.checkpoint();
const latest = await leaderStore.latest();
if (latest.index !== WRITES) throw new Error(`the latest snapshot is at index ${latest.index}, not ${WRITES}`);
console.log(`leader: ${WRITES} writes applied, ${(await leaderStore.list()).length} snapshots kept, latest ${latest.id} (index ${latest.index}, ${latest.entries} keys)`);

// ---- follower ----
const secret = randomBytes(32);
const followerStore = await DirectorySnapshotStore.at(path.join(root, 'follower-snapshots'));
const server = createSnapshotServer({ ...followerStore.serverOptions(), secret });
const { port } = await server.listen({ host: '127.0.0.1', port: 0 });

// ---- install snapshot ----
const sent = await sendSnapshot(leaderStore.pathOf(latest.id), () => net.connect(port, '127.0.0.1'), { id: latest.id, secret });
await server.close();
console.log(`shipped ${sent.bytes} bytes to the follower in ${sent.connections} connection(s)`);

const follower = { location: path.join(root, 'follower-db'), db: await openDb(path.join(root, 'follower-db')), open: openDb };
const restored = await followerStore.restore(levelApplier(follower));
console.log(`follower: restored ${restored.snapshot.id} (${restored.entries} keys) into its LevelDB`);

// ---- the follower serves reads ----
const reads = http.createServer(async (req, res) => {
  const key = decodeURIComponent(req.url.slice(1));
  try {
    res.end(await follower.db.get(key));
  } catch {
    res.statusCode = 404;
    res.end();
  }
});
await new Promise((resolve) => reads.listen(0, '127.0.0.1', resolve));
const get = (key) =>
  new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: reads.address().port, path: `/${encodeURIComponent(key)}` }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(res.statusCode === 200 ? body : null));
    }).on('error', reject);
  });

// The follower must hold exactly the leader's state at the snapshot's index (its current state:
// no write came after the last snapshot): every key, the same value, and nothing else.
let checked = 0;
let wrong = 0;
for await (const [key, value] of leader.db.iterator()) {
  const got = await get(key);
  if (got !== value) wrong++;
  checked++;
}
let followerKeys = 0;
for await (const _key of follower.db.keys()) followerKeys++;
if (followerKeys !== checked) wrong += Math.abs(followerKeys - checked);
reads.close();
console.log(`follower reads: ${checked} keys checked over HTTP, ${wrong} differ from the leader`);

await leader.db.close();
await follower.db.close();
await leaderStore.close();
await followerStore.close();
await fs.rm(root, { recursive: true, force: true });
process.exitCode = wrong === 0 && checked > 0 && failures === 0 ? 0 : 1;
