/**
 * A reconnecting sender can find the receiver still busy with its previous connection (the
 * server had not yet noticed the drop): that refusal says it may pass, and a sender with a
 * connection factory tries again instead of failing; one with a single connection gets
 * SNAP_ERR_REFUSED at once.
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import { connect, handshake } from './fixtures/raw-client.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x63e9bf22);

const MiB = 1024 * 1024;

t.test('a refusal for a transfer still under way is retried', async (t) => {
  const dir = t.testdir({ out: {} });
  const source = path.join(dir, 'src');
  const data = randomBytes(6 * MiB);
  fs.writeFileSync(source, data);
  const server = createSnapshotServer({ dir: path.join(dir, 'out') });
  const refused: { code: string }[] = [];
  server.on('refused', (e) => refused.push(e));
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());

  // A connection holding the id, silent (as a half-dead connection would be).
  const stale = await connect(port);
  t.match(await handshake(stale, { id: 'snap', size: data.length }), { type: 'ACCEPT' });

  await t.rejects(sendSnapshot(source, net.connect(port, '127.0.0.1'), { id: 'snap' }), { code: 'SNAP_ERR_REFUSED', message: /already under way/ });

  setTimeout(() => stale.destroy(), 400);
  const result = await sendSnapshot(source, () => net.connect(port, '127.0.0.1'), { id: 'snap', retries: 5 });
  t.ok(result.connections >= 2, `${result.connections} connections: refused, then accepted`);
  t.ok(refused.length >= 2);
  t.ok(fs.readFileSync(path.join(dir, 'out', 'snap')).equals(data));
});
