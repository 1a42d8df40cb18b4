/**
 * A second transfer of an id already under way is refused (SNAP_ERR_REFUSED, "already under
 * way") and does not disturb the first, which completes with its own bytes.
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x1c8c0710);

const MiB = 1024 * 1024;

t.test('the same id twice at once', async (t) => {
  const dir = t.testdir({ out: {} });
  const server = createSnapshotServer({ dir: path.join(dir, 'out') });
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());
  const first = randomBytes(12 * MiB);
  const second = randomBytes(12 * MiB);
  fs.writeFileSync(path.join(dir, 'first'), first);
  fs.writeFileSync(path.join(dir, 'second'), second);

  const started = new Promise((resolve) => server.once('transfer-start', resolve));
  const sending = sendSnapshot(path.join(dir, 'first'), net.connect(port, '127.0.0.1'), { id: 'snap', rateLimit: 24 * MiB });
  await started;
  await t.rejects(sendSnapshot(path.join(dir, 'second'), net.connect(port, '127.0.0.1'), { id: 'snap' }), {
    code: 'SNAP_ERR_REFUSED',
    message: /already under way/,
  });
  const result = await sending;
  t.equal(result.connections, 1, 'the first was not disturbed');
  t.ok(fs.readFileSync(path.join(dir, 'out', 'snap')).equals(first), 'and installed its own bytes');
});
