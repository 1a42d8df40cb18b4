/**
 * An unauthenticated connection reserves nothing: connections that said HELLO (for the very id
 * a legitimate sender wants, and more of them than `maxConcurrent`) and never AUTH, and
 * connections that say nothing at all, do not keep a legitimate sender out. `maxHandshakes`
 * caps the connections still authenticating (one more is told REFUSE SNAP_ERR_BUSY, `retry`),
 * and `handshakeTimeoutMs` ends a handshake that does not finish (REFUSE SNAP_ERR_TIMEOUT), however
 * long the idle timeout is.
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import { connect } from './fixtures/raw-client.js';
import type { WireConnection } from '../../lib/transfer/wire-connection.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x2ebd0a4e);

const MiB = 1024 * 1024;

function source(dir: string): { file: string; data: Buffer } {
  const file = path.join(dir, 'src');
  const data = randomBytes(3 * MiB + 11);
  fs.writeFileSync(file, data);
  return { file, data };
}

/** A connection that says HELLO for `id`, gets its CHALLENGE, and then says nothing. */
async function stalledHello(port: number, id: string): Promise<WireConnection> {
  const conn = await connect(port);
  await conn.send('HELLO', { version: 1, id, size: 3 * MiB + 11, meta: {}, nonce: 'n' });
  await conn.expect(['CHALLENGE'], 10_000);
  return conn;
}

t.test('stalled HELLOs and silent connections take no slot and no id', async (t) => {
  const dir = t.testdir({ out: {} });
  const out = path.join(dir, 'out');
  // Long timeouts: the stalled connections stay for the whole test.
  const server = createSnapshotServer({ dir: out, maxConcurrent: 2, idleTimeoutMs: 60_000, handshakeTimeoutMs: 60_000 });
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());

  const stalled = [
    ...(await Promise.all(Array.from({ length: 4 }, (_, i) => stalledHello(port, i === 0 ? 'victim' : `other-${i}`)))),
    ...(await Promise.all(Array.from({ length: 4 }, () => connect(port)))),
  ];
  t.teardown(() => stalled.forEach((c) => c.destroy()));
  t.equal(server.transfers, 0, 'no transfer counted for them');

  const { file, data } = source(dir);
  const result = await sendSnapshot(file, net.connect(port, '127.0.0.1'), { id: 'victim' });
  t.equal(result.bytes, data.length);
  t.ok(fs.readFileSync(path.join(out, 'victim')).equals(data), 'the legitimate sender got the id it wanted');
});

t.test('maxHandshakes: one more unauthenticated connection is refused SNAP_ERR_BUSY', async (t) => {
  const dir = t.testdir({ out: {} });
  const out = path.join(dir, 'out');
  const server = createSnapshotServer({ dir: out, maxHandshakes: 2, idleTimeoutMs: 60_000, handshakeTimeoutMs: 60_000 });
  const refused: { code: string }[] = [];
  server.on('refused', (r) => refused.push(r));
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());

  const a = await stalledHello(port, 'a');
  const b = await stalledHello(port, 'b');
  const third = await connect(port);
  t.match(await third.expect(['REFUSE'], 10_000), { body: { code: 'SNAP_ERR_BUSY', retry: true } }, 'the third is refused, retry');
  third.destroy();
  t.match(refused, [{ code: 'SNAP_ERR_BUSY' }]);

  // Once they go, a sender is served again.
  const closed = new Promise((resolve) => server.once('connection-error', resolve));
  a.destroy();
  await closed;
  const { file, data } = source(dir);
  await sendSnapshot(file, net.connect(port, '127.0.0.1'), { id: 'snap' });
  t.ok(fs.readFileSync(path.join(out, 'snap')).equals(data));
  b.destroy();
});

t.test('handshakeTimeoutMs ends a handshake that does not finish, whatever the idle timeout', async (t) => {
  const dir = t.testdir();
  const server = createSnapshotServer({ dir, idleTimeoutMs: 60_000, handshakeTimeoutMs: 300 });
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());

  const silent = await connect(port);
  t.match(await silent.expect(['REFUSE'], 10_000), { body: { code: 'SNAP_ERR_TIMEOUT' } }, 'a silent connection');
  silent.destroy();

  const hello = await stalledHello(port, 'snap');
  t.match(await hello.expect(['REFUSE'], 10_000), { body: { code: 'SNAP_ERR_TIMEOUT' } }, 'HELLO, then no AUTH');
  hello.destroy();

  // A peer that keeps sending a little (part of a message) does not stretch it either.
  const drip = await connect(port);
  const partial = Buffer.alloc(4096);
  partial.writeUInt32LE(0x4d504e53, 0); // a message magic, then never a whole header
  const timer = setInterval(() => drip.stream.write(partial.subarray(0, 1)), 50);
  t.teardown(() => clearInterval(timer));
  drip.stream.write(partial.subarray(0, 4));
  t.match(await drip.expect(['REFUSE'], 10_000), { body: { code: 'SNAP_ERR_TIMEOUT' } }, 'a slow drip');
  clearInterval(timer);
  drip.destroy();
  t.same(fs.readdirSync(dir), []);
});
