/**
 * No delta with a peer that speaks only protocol version 1: a version 1 sender's HELLO (no
 * `maxVersion`) gets a version 1 ACCEPT (no `version`) and the whole file is received as
 * before; a new sender facing a version 1 receiver sends the whole file, and no OFFER.
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { connect, handshake, chunk, end } from './fixtures/raw-client.js';
import { deltaDir } from './fixtures/delta-snapshots.js';
import { listenLoopback } from './fixtures/listen-loopback.js';

const pair = (t: Tap.Test) => deltaDir(t, { count: 8000 });

t.test('a version 1 sender (HELLO without maxVersion) gets a version 1 transfer', async (t) => {
  const { today, out } = await pair(t);
  const server = createSnapshotServer({ dir: out });
  const port = await listenLoopback(t, server);
  const data = fs.readFileSync(today);
  const conn = await connect(port);
  t.teardown(() => conn.destroy());
  const accept = await handshake(conn, { id: 'snap', size: data.length });
  t.equal(accept.type, 'ACCEPT');
  t.notOk('version' in accept.body, 'the ACCEPT a version 1 build sends: no version field');
  await conn.write([...chunk(0, 0, data), ...end(1, data)]);
  t.equal((await conn.expect(['ACK'], 5000)).type, 'ACK');
  t.equal((await conn.expect(['DONE'], 5000)).type, 'DONE');
  t.ok(fs.readFileSync(path.join(out, 'snap')).equals(data), 'installed');
});

t.test('sendSnapshot speaking version 1 sends the whole file, as before', async (t) => {
  const { today, out } = await pair(t);
  const server = createSnapshotServer({ dir: out });
  const installed: { version?: number }[] = [];
  server.on('installed', (i: { version?: number }) => installed.push(i));
  const port = await listenLoopback(t, server);
  const result = await sendSnapshot(today, () => net.connect(port, '127.0.0.1'), { id: 'snap', protocolVersion: 1 });
  t.equal(result.delta, false);
  t.equal(result.sentBytes, fs.statSync(today).size, 'every byte sent');
  t.equal(installed[0]?.version, 1);
  t.ok(fs.readFileSync(path.join(out, 'snap')).equals(fs.readFileSync(today)));
});

t.test('a version 1 receiver gets the whole file from a new sender, and no OFFER', async (t) => {
  for (const options of [{ protocolVersion: 1 }, { delta: false }]) {
    const { today, out } = await pair(t);
    const server = createSnapshotServer({ dir: out, ...options });
    const port = ((await server.listen({ port: 0 })) as net.AddressInfo).port;
    const result = await sendSnapshot(today, () => net.connect(port, '127.0.0.1'), { id: 'snap' });
    await server.close();
    t.equal(result.delta, false, JSON.stringify(options));
    t.equal(result.copiedBytes, 0);
    t.equal(result.sentBytes, fs.statSync(today).size, 'every byte sent');
    t.ok(fs.readFileSync(path.join(out, 'snap')).equals(fs.readFileSync(today)));
  }
});

t.test('delta: false on the sender sends the whole file to a version 2 receiver', async (t) => {
  const { today, out } = await pair(t);
  const server = createSnapshotServer({ dir: out });
  const port = await listenLoopback(t, server);
  const result = await sendSnapshot(today, () => net.connect(port, '127.0.0.1'), { id: 'snap', delta: false });
  t.equal(result.delta, false);
  t.equal(result.sentBytes, fs.statSync(today).size);
  t.ok(fs.readFileSync(path.join(out, 'snap')).equals(fs.readFileSync(today)));
});
