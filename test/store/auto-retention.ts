/**
 * Retention runs by itself when the store has a policy: after each create, and after each
 * snapshot received into the store, before the sender hears DONE. It never removes the snapshot
 * just added, nor one in use — read through store.open(), or being sent with store.send() —
 * and `autoPrune: false` (or `create(…, { prune: false })`) turns it off.
 */
import t from 'tap';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { createSnapshotServer, mapSource, DirectorySnapshotStore, type SnapshotMap } from '../../lib/index.js';
import { mulberry32, seededRandomBytes } from '../fixtures/random.js';
import { checkRetentionAfterCreate, idsOf as ids, smallState as state } from '../fixtures/retention-after-create.js';

const randomBytes = seededRandomBytes(t, 0x13a60226);

t.test('after each create, the store applies its retention', async (t) => {
  const store = await DirectorySnapshotStore.at(path.join(t.testdir(), 'store'), { write: { codec: 'lz4' }, retention: { maxSnapshots: 2 } });
  t.teardown(() => store.close());
  await checkRetentionAfterCreate(t, store);
});

t.test('autoPrune: false', async (t) => {
  const store = await DirectorySnapshotStore.at(path.join(t.testdir(), 'store'), { write: { codec: 'lz4' }, retention: { maxSnapshots: 1 }, autoPrune: false });
  t.teardown(() => store.close());
  for (const i of [1, 2, 3]) await store.create(mapSource(state(10), { index: i }));
  t.equal((await store.list()).length, 3, 'nothing pruned by itself');
  t.equal((await store.prune()).length, 2, 'prune() still applies the policy');
});

t.test('after a snapshot is received into the store; a snapshot being sent is kept', async (t) => {
  const dir = t.testdir();
  const leader = await DirectorySnapshotStore.at(path.join(dir, 'leader'), { write: { codec: 'lz4' } });
  t.teardown(() => leader.close());
  const follower = await DirectorySnapshotStore.at(path.join(dir, 'follower'), { write: { codec: 'lz4' }, retention: { maxSnapshots: 1 } });
  t.teardown(() => follower.close());
  for (const i of [1, 2]) await follower.create(mapSource(state(10), { index: i }), undefined, { id: `local${i}`, prune: false });
  const secret = randomBytes(32);
  const server = createSnapshotServer({ ...follower.serverOptions(), secret });
  const { port } = (await server.listen({ host: '127.0.0.1', port: 0 })) as AddressInfo;
  t.teardown(() => server.close());

  // Several chunks, so that the send is in flight at its first progress report.
  const rand = mulberry32(77);
  const noise: SnapshotMap = new Map(Array.from({ length: 40_000 }, (_, i) => [`k${i}`, Buffer.from(Array.from({ length: 300 }, () => Math.floor(rand() * 256)))]));
  const big = await leader.create(mapSource(noise, { index: 3 }), undefined, { id: 'big' });
  await leader.create(mapSource(state(10), { index: 4 }), undefined, { id: 'newer' });
  let prunedMidSend: string[] | null = null;
  await leader.send('big', () => net.connect(port, '127.0.0.1'), {
    secret,
    chunkSize: 4 * 1024 * 1024,
    fixedChunkSize: true,
    onProgress: () => {
      prunedMidSend ??= [];
      if (prunedMidSend.length === 0) void leader.prune({ maxSnapshots: 1 }).then((p) => prunedMidSend!.push(...p));
    },
  });
  t.ok(big.size > 8 * 1024 * 1024, `${big.size} bytes: several chunks`);
  t.same(prunedMidSend, [], 'a prune during the send left the snapshot being sent');
  t.same(await ids(leader), ['newer', 'big']);
  t.same(await ids(follower), ['big'], 'the follower applied its retention after the receive, keeping the received snapshot');
});
