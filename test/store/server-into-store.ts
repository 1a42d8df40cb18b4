/**
 * The transfer server receives straight into a store (`createSnapshotServer({
 * ...store.serverOptions(), secret })`): a snapshot sent over TCP lands under the store's own
 * file name, is adopted — listed, with its metadata, and saved in store.json — before
 * sendSnapshot resolves (the receiver adopts it before it answers DONE), leaves no partial file,
 * and restores to exactly what the sender snapshotted.
 */
import t from 'tap';
import fs from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { createSnapshotServer, mapApplier, mapSource, sendSnapshot, DirectorySnapshotStore, type SnapshotMap, type StoredSnapshot } from '../../lib/index.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x548ea259);

t.test('a sent snapshot is adopted by the receiving store before the sender hears DONE', async (t) => {
  const dir = t.testdir();
  const leader = await DirectorySnapshotStore.at(path.join(dir, 'leader'));
  t.teardown(() => leader.close());
  const state: SnapshotMap = new Map();
  for (let i = 0; i < 25_000; i++) state.set(`user:${i}`, randomBytes(200).toString('base64'));
  const sent = await leader.create(mapSource(state), { index: 42, term: 3 });
  t.ok(sent.size > 4 * 1024 * 1024, `${sent.size} bytes: more than one chunk`);

  const follower = await DirectorySnapshotStore.at(path.join(dir, 'follower'));
  t.teardown(() => follower.close());
  const secret = randomBytes(32);
  const server = createSnapshotServer({ ...follower.serverOptions(), secret });
  const { port } = (await server.listen({ host: '127.0.0.1', port: 0 })) as AddressInfo;
  t.teardown(() => server.close());

  const order: string[] = [];
  let listedAtAdoption: string[] = [];
  follower.on('created', (s: StoredSnapshot) => {
    order.push(`adopted ${s.id}`);
    // list() copies the list when called: what was listed at adoption.
    void follower.list().then((l) => (listedAtAdoption = l.map((x) => x.id)));
  });
  t.same(await follower.list(), [], 'the follower starts empty');
  const result = await sendSnapshot(leader.pathOf(sent.id), () => net.connect(port, '127.0.0.1'), { id: sent.id, secret });
  order.push('sendSnapshot resolved');
  const listedWhenResolved = await follower.list();

  t.same(order, [`adopted ${sent.id}`, 'sendSnapshot resolved'], 'adopted first, then the sender is told');
  t.same(listedAtAdoption, [sent.id]);
  t.equal(listedWhenResolved.length, 1, 'listed when sendSnapshot resolves');
  t.match(listedWhenResolved[0], { id: sent.id, index: 42, term: 3, size: sent.size, entries: sent.entries, codec: sent.codec });
  t.equal(result.bytes, sent.size);
  t.same(fs.readdirSync(path.join(dir, 'follower')).filter((n) => !n.startsWith('LOCK')).sort(), [`${sent.id}.snap`, 'store.json'], 'under the store name, no partial');
  t.ok(fs.readFileSync(follower.pathOf(sent.id)).equals(fs.readFileSync(leader.pathOf(sent.id))), 'byte-identical');
  const saved = JSON.parse(fs.readFileSync(path.join(dir, 'follower', 'store.json'), 'utf8')) as { snapshots: { id: string }[] };
  t.same(
    saved.snapshots.map((s) => s.id),
    [sent.id],
    'in store.json',
  );

  await follower.verify(sent.id);
  const replica: SnapshotMap = new Map();
  const restored = await follower.restore(mapApplier(replica));
  t.equal(restored.snapshot.id, sent.id);
  t.same(replica, state, 'restores to exactly the sent state');
});
