/**
 * `maxConcurrent` caps the transfers under way: one more is refused (SNAP_ERR_REFUSED, "too
 * many") before anything is written for it; once one finishes, it is accepted.
 */
import t from 'tap';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { RefusedError } from '../../lib/errors.js';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import { connect, handshake } from './fixtures/raw-client.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x2746589f);

t.test('the transfer over the limit is refused', async (t) => {
  const dir = t.testdir({ out: {} });
  const out = path.join(dir, 'out');
  const server = createSnapshotServer({ dir: out, maxConcurrent: 2 });
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());

  const a = await connect(port);
  const b = await connect(port);
  t.match(await handshake(a, { id: 'a', size: 100 }), { type: 'ACCEPT' });
  t.match(await handshake(b, { id: 'b', size: 100 }), { type: 'ACCEPT' });
  t.equal(server.transfers, 2);

  const source = path.join(dir, 'src');
  fs.writeFileSync(source, randomBytes(1000));
  const err = await sendSnapshot(source, net.connect(port, '127.0.0.1'), { id: 'c' }).then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(err instanceof RefusedError);
  t.match(err, { code: 'SNAP_ERR_REFUSED', message: /too many transfers/ });
  t.notOk(fs.existsSync(path.join(out, 'c.partial')), 'nothing written for it');

  // The slot is free once the server has noticed the drop: wait for that, not for a while.
  const freed = (async () => {
    while (server.transfers >= 2) await once(server, 'transfer-error');
  })();
  a.destroy();
  await freed;
  await sendSnapshot(source, net.connect(port, '127.0.0.1'), { id: 'c' });
  t.ok(fs.existsSync(path.join(out, 'c')), 'accepted once a slot is free');
  b.destroy();
});
