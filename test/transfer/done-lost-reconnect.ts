/**
 * When the receiver's DONE is lost (the connection drops after the file is installed), the
 * sender reconnects and the receiver, recognising the installed file by the length and CRC32
 * the sender now sends with its HELLO, confirms it: nothing is sent again. A different file
 * under the same id is not mistaken for it: it is sent in full and replaces the old one.
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { sendSnapshot, type TransferProgress } from '../../lib/transfer/send-snapshot.js';
import { MessageType } from '../../lib/transfer/wire.js';
import { startFaultProxy } from './fixtures/fault-proxy.js';
import { rawServer } from './fixtures/raw-server.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0xafa6e415);

const MiB = 1024 * 1024;

t.test('a lost DONE costs a reconnect, not a resend', async (t) => {
  const dir = t.testdir({ out: {} });
  const source = path.join(dir, 'src');
  const data = randomBytes(20 * MiB + 3);
  fs.writeFileSync(source, data);
  const server = createSnapshotServer({ dir: path.join(dir, 'out') });
  const installed: unknown[] = [];
  server.on('installed', (e) => installed.push(e));
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());
  const proxy = await startFaultProxy({ target: { port }, seed: 1, down: { lose: [MessageType.DONE] } });
  t.teardown(() => proxy.close());

  const result = await sendSnapshot(source, () => net.connect(proxy.port, '127.0.0.1'), { id: 'snap', retries: 3 });
  t.equal(proxy.faults.length, 1, 'the first DONE was lost');
  t.equal(result.connections, 2, 'one reconnect');
  t.same(result.resumes, [data.length], 'the receiver reported the whole file held');
  t.equal(result.resentBytes, 0, 'nothing sent twice');
  t.equal(result.sentBytes, data.length);
  t.ok(fs.readFileSync(path.join(dir, 'out', 'snap')).equals(data));
  t.notOk(fs.existsSync(path.join(dir, 'out', 'snap.partial')));
  t.equal(installed.length, 2, "'installed' on the first connection, and confirmed on the second");
});

t.test('a different file under an installed id is sent in full and replaces it', async (t) => {
  const dir = t.testdir({ out: {} });
  const server = createSnapshotServer({ dir: path.join(dir, 'out') });
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());
  const first = randomBytes(6 * MiB);
  const second = randomBytes(6 * MiB); // same size, other bytes
  fs.writeFileSync(path.join(dir, 'a'), first);
  fs.writeFileSync(path.join(dir, 'b'), second);
  await sendSnapshot(path.join(dir, 'a'), net.connect(port, '127.0.0.1'), { id: 'snap' });
  // The second sender loses its DONE too, so its HELLO carries its own CRC on reconnecting.
  const proxy = await startFaultProxy({ target: { port }, seed: 2, down: { lose: [MessageType.DONE] } });
  t.teardown(() => proxy.close());
  const result = await sendSnapshot(path.join(dir, 'b'), () => net.connect(proxy.port, '127.0.0.1'), { id: 'snap' });
  t.equal(result.resumedFrom, 0, 'the first file was not taken for the second');
  t.same(result.resumes, [second.length], 'after the lost DONE, the second file is recognised');
  t.ok(fs.readFileSync(path.join(dir, 'out', 'snap')).equals(second));
});

t.test('the last progress report covers the file when the reconnect finds it installed', async (t) => {
  const dir = t.testdir();
  const source = path.join(dir, 'src');
  const data = randomBytes(10 * MiB);
  fs.writeFileSync(source, data);
  // The first connection acknowledges two chunks of three, and drops at the end frame (the file
  // installed, its DONE lost); the second finds the whole file held.
  const port = await rawServer(t, (n) => ({ offset: n === 1 ? 0 : data.length }), async (conn, n) => {
    for (;;) {
      const item = await conn.next(5000);
      if (item.kind !== 'chunk') continue;
      const f = item.frame;
      if (f.type === 2) {
        if (n === 1) return conn.destroy();
        return conn.send('DONE', { length: data.length, crc: f.crc32 });
      }
      if (f.offset + f.length < data.length) await conn.send('ACK', { seq: f.seq, offset: f.offset + f.length, durable: 0 });
    }
  });
  const reports: TransferProgress[] = [];
  const result = await sendSnapshot(source, () => net.connect(port, '127.0.0.1'), { id: 'snap', fixedChunkSize: true, onProgress: (p) => reports.push(p) });
  t.equal(result.connections, 2);
  t.same(result.resumes, [data.length], 'the second connection found the whole file held');
  t.ok(reports.some((p) => p.bytes < data.length), 'the first connection reported part of the file');
  t.equal(reports.at(-1)?.bytes, data.length, 'the last report covers the file');
});
