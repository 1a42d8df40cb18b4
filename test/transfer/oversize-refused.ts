/**
 * A snapshot announced larger than the server's `maxSize` is refused (REFUSE SNAP_ERR_LIMIT,
 * SNAP_ERR_REFUSED for sendSnapshot) before anything is written, as is an impossible size; and
 * a sender that announces a small size and then sends more is stopped at the announced size,
 * with nothing installed.
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { RefusedError } from '../../lib/errors.js';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import { chunk, connect, end, handshake } from './fixtures/raw-client.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x6878f1a5);

const MiB = 1024 * 1024;
const MAX = 8 * MiB;

t.test('oversize and impossible announcements are refused', async (t) => {
  const dir = t.testdir({ out: {} });
  const out = path.join(dir, 'out');
  const server = createSnapshotServer({ dir: out, maxSize: MAX });
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());

  for (const [name, size, code] of [
    ['one byte over', MAX + 1, 'SNAP_ERR_LIMIT'],
    ['a petabyte', 2 ** 50, 'SNAP_ERR_LIMIT'],
    ['negative', -1, 'SNAP_ERR_INVALID_ARGUMENT'],
    ['fractional', 1.5, 'SNAP_ERR_INVALID_ARGUMENT'],
    ['a string', '1000', 'SNAP_ERR_INVALID_ARGUMENT'],
    ['beyond 2^53', 2 ** 60, 'SNAP_ERR_INVALID_ARGUMENT'],
  ] as const) {
    const conn = await connect(port);
    t.match(await handshake(conn, { id: 'big', size }), { type: 'REFUSE', body: { code } }, name);
    conn.destroy();
  }
  t.same(fs.readdirSync(out), []);

  const source = path.join(dir, 'src');
  fs.writeFileSync(source, randomBytes(MAX + 1));
  const err = await sendSnapshot(source, net.connect(port, '127.0.0.1'), { id: 'big' }).then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(err instanceof RefusedError);
  t.match(err, { code: 'SNAP_ERR_REFUSED', message: /over the limit/ });
  t.same(fs.readdirSync(out), [], 'nothing written');

  fs.truncateSync(source, MAX);
  await sendSnapshot(source, net.connect(port, '127.0.0.1'), { id: 'big' });
  t.equal(fs.statSync(path.join(out, 'big')).size, MAX, 'exactly maxSize is accepted');
});

t.test('a sender that sends more than it announced is stopped there', async (t) => {
  const dir = t.testdir();
  const server = createSnapshotServer({ dir });
  const errors: { code?: string }[] = [];
  server.on('transfer-error', (_i, err) => errors.push(err));
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());
  const data = randomBytes(8 * MiB);
  const conn = await connect(port);
  t.match(await handshake(conn, { id: 'liar', size: 4 * MiB }), { type: 'ACCEPT' });
  await conn.write([...chunk(0, 0, data.subarray(0, 4 * MiB)), ...chunk(1, 4 * MiB, data.subarray(4 * MiB)), ...end(2, data)]);
  // (The ACK for chunk 0 may or may not get out before the connection is dropped.)
  // ACKs, then the server says why it stops (CANCEL naming SNAP_ERR_LIMIT) and drops the connection.
  let cancel: Record<string, unknown> | null = null;
  const answers = async (): Promise<void> => {
    for (;;) {
      const m = await conn.expect(['ACK', 'CANCEL'], 5000);
      if (m.type === 'CANCEL') cancel = m.body;
    }
  };
  await t.rejects(answers(), { code: 'SNAP_ERR_NETWORK' }, 'the connection is dropped, no DONE');
  t.match(cancel, { code: 'SNAP_ERR_LIMIT' }, 'the sender is told why');
  t.match(errors, [{ code: 'SNAP_ERR_LIMIT' }]);
  t.notOk(fs.existsSync(path.join(dir, 'liar')), 'nothing installed');
  t.ok(fs.statSync(path.join(dir, 'liar.partial')).size <= 4 * MiB, 'not a byte past the announced size');
});
