/**
 * A chunk damaged again when it is resent is asked for again: the receiver answers every
 * damaged chunk with a NACK naming its seq, and the sender goes back once more for a NACK about
 * a chunk it sent after its last rewind (while NACKs about chunks sent before it, already
 * handled, are ignored). Neither side waits for an idle timeout to recover.
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import { chunk, connect, end, handshake } from './fixtures/raw-client.js';
import { rawServer } from './fixtures/raw-server.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x500b67fa);

const MiB = 1024 * 1024;

t.test('the server NACKs a resent chunk that is damaged again', async (t) => {
  const dir = t.testdir();
  const server = createSnapshotServer({ dir, idleTimeoutMs: 20_000 });
  const bad: unknown[] = [];
  server.on('bad-chunk', (e) => bad.push(e));
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());

  const data = randomBytes(8 * MiB);
  const c0 = data.subarray(0, 4 * MiB);
  const c1 = data.subarray(4 * MiB);
  const conn = await connect(port);
  t.match(await handshake(conn, { id: 'twice', size: data.length }), { type: 'ACCEPT', body: { offset: 0 } });
  await conn.write([...chunk(0, 0, c0, 100), ...chunk(1, 4 * MiB, c1)]);
  t.match(await conn.expect(['NACK'], 2000), { body: { seq: 0, offset: 0 } }, 'damaged chunk 0: NACK');
  // The stale chunk 1 (a gap now) gets no answer of its own; the resent chunk 0 is damaged again.
  await conn.write(chunk(2, 0, c0, 200));
  t.match(await conn.expect(['NACK'], 2000), { body: { seq: 2, offset: 0 } }, 'damaged again: NACK again, at once');
  await conn.write([...chunk(3, 0, c0), ...chunk(4, 4 * MiB, c1), ...end(5, data)]);
  t.match(await conn.expect(['ACK'], 2000), { body: { seq: 3, offset: 4 * MiB } });
  t.match(await conn.expect(['ACK'], 2000), { body: { seq: 4, offset: 8 * MiB } });
  t.match(await conn.expect(['DONE'], 5000), { body: { length: data.length } });
  t.equal(bad.length, 2, "two 'bad-chunk' events");
  t.ok(fs.readFileSync(path.join(dir, 'twice')).equals(data));
  conn.destroy();
});

t.test('the sender goes back again for a resent chunk reported damaged again', async (t) => {
  const dir = t.testdir();
  const source = path.join(dir, 'src');
  const data = randomBytes(12 * MiB + 5);
  fs.writeFileSync(source, data);

  // A receiver that NACKs the first two copies of chunk 1 (at 4 MiB), and also answers the
  // stale chunk 2 that was in flight behind the first copy (an old NACK the sender must ignore).
  const seen: { seq: number; offset: number }[] = [];
  const port = await rawServer(t, { offset: 0 }, async (conn) => {
    let offset = 0;
    let nacks = 0;
    for (;;) {
      const item = await conn.next(5000);
      if (item.kind !== 'chunk') continue;
      const f = item.frame;
      if (f.type === 2) {
        if (f.offset === offset) return conn.send('DONE', { length: offset, crc: f.crc32 });
        continue;
      }
      seen.push({ seq: f.seq, offset: f.offset });
      if (f.offset === 4 * MiB && offset === 4 * MiB && nacks < 2) {
        nacks++;
        await conn.send('NACK', { seq: f.seq, offset });
        continue;
      }
      if (f.offset !== offset) {
        if (f.offset === 8 * MiB && nacks === 1) await conn.send('NACK', { seq: f.seq, offset }); // stale
        continue;
      }
      offset += f.length;
      await conn.send('ACK', { seq: f.seq, offset, durable: 0 });
    }
  });

  const started = Date.now();
  const result = await sendSnapshot(source, net.connect(port, '127.0.0.1'), {
    id: 'x',
    fixedChunkSize: true,
    window: 4,
    idleTimeoutMs: 3000,
  });
  t.ok(Date.now() - started < 2500, 'no idle timeout was waited out');
  t.equal(result.nacks, 2, 'went back twice');
  t.equal(result.connections, 1);
  const copiesOf1 = seen.filter((s) => s.offset === 4 * MiB).length;
  t.equal(copiesOf1, 3, 'chunk 1 was sent three times');
});
