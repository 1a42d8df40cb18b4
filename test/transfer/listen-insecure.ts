/**
 * A server refuses to listen beyond loopback without a secret (SNAP_ERR_INVALID_ARGUMENT)
 * unless told `insecure`; on loopback, or with a secret, it listens.
 */
import t from 'tap';
import net from 'node:net';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';

t.test('all interfaces without a secret: refused', async (t) => {
  for (const host of ['0.0.0.0', '::']) {
    const server = createSnapshotServer({ dir: t.testdir() });
    await t.rejects(server.listen({ host, port: 0 }), { code: 'SNAP_ERR_INVALID_ARGUMENT', message: /without a secret/ }, host);
  }
});

t.test('insecure, a secret, or loopback: listening', async (t) => {
  const cases: [string, object][] = [
    ['0.0.0.0, insecure', { host: '0.0.0.0', insecure: true }],
    ['0.0.0.0, with a secret', { host: '0.0.0.0', secret: 's' }],
    ['127.0.0.1', { host: '127.0.0.1' }],
    ['localhost', { host: 'localhost' }],
    ['default host', {}],
  ];
  for (const [name, { host, ...options }] of cases as [string, { host?: string }][]) {
    const server = createSnapshotServer({ dir: t.testdir(), ...options });
    const address = (await server.listen({ port: 0, ...(host ? { host } : {}) })) as net.AddressInfo;
    t.ok(address.port > 0, `${name}: listening on port ${address.port}`);
    if (!host || host === '127.0.0.1') t.equal(address.address, '127.0.0.1', 'loopback by default');
    await server.close();
  }
});
