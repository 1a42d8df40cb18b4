/**
 * Over TLS (a self-signed certificate made with openssl for the test), a snapshot goes end to
 * end through `tls.connect`, with the shared secret on top, byte-identical; the snapshot's bytes
 * never appear in clear on the wire. A sender that does not trust the certificate fails with
 * SNAP_ERR_NETWORK and nothing is written.
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x8a20a435);

const MiB = 1024 * 1024;

t.test('TLS end to end', async (t) => {
  const dir = t.testdir({ out: {} });
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', key, '-out', cert], {
    stdio: 'ignore',
  });
  const source = path.join(dir, 'src');
  const data = randomBytes(9 * MiB + 1);
  fs.writeFileSync(source, data);

  const server = createSnapshotServer({ dir: path.join(dir, 'out'), secret: 'tls and a secret', tls: { key: fs.readFileSync(key), cert: fs.readFileSync(cert) } });
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());

  // What the TCP layer carries, captured through a plain proxy in front of the server.
  const seen: Buffer[] = [];
  const tap = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    client.on('data', (d: Buffer) => seen.push(Buffer.from(d)));
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => tap.listen(0, '127.0.0.1', resolve));
  t.teardown(() => tap.close());
  const tapPort = (tap.address() as net.AddressInfo).port;

  const ca = fs.readFileSync(cert);
  const result = await sendSnapshot(source, () => tls.connect({ port: tapPort, host: '127.0.0.1', servername: 'localhost', ca }), {
    id: 'secure',
    secret: 'tls and a secret',
  });
  t.equal(result.bytes, data.length);
  t.ok(fs.readFileSync(path.join(dir, 'out', 'secure')).equals(data), 'byte-identical');
  const wire = Buffer.concat(seen);
  t.ok(wire.length > data.length, 'the transfer went through the tap');
  t.equal(wire.indexOf(data.subarray(1000, 1064)), -1, 'no plaintext snapshot bytes on the wire');
  t.equal(wire.indexOf('SNPM'), -1, 'no plaintext protocol messages either');

  // Without the CA: the certificate is not trusted.
  await t.rejects(
    sendSnapshot(source, tls.connect({ port, host: '127.0.0.1', servername: 'localhost' }), { id: 'untrusted', secret: 'tls and a secret' }),
    { code: 'SNAP_ERR_NETWORK' },
  );
  t.notOk(fs.existsSync(path.join(dir, 'out', 'untrusted.partial')), 'nothing written for it');
});
