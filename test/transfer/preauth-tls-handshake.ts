/**
 * Over TLS, the TLS handshake comes before the protocol's: a connection that never even starts
 * it is closed after `handshakeTimeoutMs` too, not after Node's default of two minutes.
 */
import t from 'tap';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';

t.test('a silent TCP connection to a TLS server is closed after handshakeTimeoutMs', async (t) => {
  const dir = t.testdir({ out: {} });
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', key, '-out', cert], {
    stdio: 'ignore',
  });
  const server = createSnapshotServer({
    dir: path.join(dir, 'out'),
    secret: 's',
    handshakeTimeoutMs: 200,
    tls: { key: fs.readFileSync(key), cert: fs.readFileSync(cert) },
  });
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());

  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  const closed = await new Promise<boolean>((resolve) => {
    const giveUp = setTimeout(() => resolve(false), 30_000);
    socket.once('close', () => {
      clearTimeout(giveUp);
      resolve(true);
    });
  });
  t.ok(closed, 'the server closed it');
  socket.destroy();
});
