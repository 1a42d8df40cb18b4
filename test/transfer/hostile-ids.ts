/**
 * Snapshot ids name files on the receiver, so hostile ones sent raw (bypassing the sender's own
 * check) are refused with REFUSE SNAP_ERR_INVALID_ARGUMENT in answer to the HELLO itself, before
 * any challenge and before any file is created, inside the directory or out of it. sendSnapshot
 * refuses them too, before connecting.
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import { connect, handshake } from './fixtures/raw-client.js';

const hostile: [string, unknown][] = [
  ['parent directory', '../x'],
  ['parent, deeper', '../../../../tmp/x'],
  ['absolute path', '/etc/passwd'],
  ['absolute path in the test dir', '/tmp/snapstream-hostile-id'],
  ['subdirectory', 'a/b'],
  ['backslash', 'a\\b'],
  ['dot dot', '..'],
  ['dot dot inside', 'a..b'],
  ['hidden', '.x'],
  ['a partial name', 'snap.partial'],
  ['10 KB name', 'x'.repeat(10 * 1024)],
  ['201 characters', 'x'.repeat(201)],
  ['empty', ''],
  ['NUL', 'a\u0000b'],
  ['newline', 'a\nb'],
  ['not a string', 42],
  ['missing', undefined],
];

t.test('hostile ids are refused before anything is created', async (t) => {
  const dir = t.testdir({ out: {} });
  const out = path.join(dir, 'out');
  const server = createSnapshotServer({ dir: out });
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());
  const before = fs.readdirSync(dir);

  for (const [name, id] of hostile) {
    const conn = await connect(port);
    const answer = await handshake(conn, { id, size: 1024 });
    t.match(answer, { type: 'REFUSE', body: { code: 'SNAP_ERR_INVALID_ARGUMENT' } }, `${name}: REFUSE in answer to HELLO`);
    conn.destroy();
  }
  t.same(fs.readdirSync(out), [], 'nothing in the directory');
  t.same(fs.readdirSync(dir), before, 'nothing beside it');
  t.notOk(fs.existsSync('/tmp/snapstream-hostile-id') || fs.existsSync('/tmp/snapstream-hostile-id.partial'), 'nothing at the absolute path');
  t.notOk(fs.existsSync('/tmp/x.partial'), 'nothing up the tree');

  // A valid id of the longest allowed length is accepted (the limit is not off by one).
  const conn = await connect(port);
  t.match(await handshake(conn, { id: 'x'.repeat(200), size: 0 }), { type: 'ACCEPT' });
  conn.destroy();
});

t.test('sendSnapshot checks the id before connecting', async (t) => {
  const source = path.join(t.testdir(), 'src');
  fs.writeFileSync(source, 'x');
  let connected = 0;
  for (const [name, id] of hostile) {
    await t.rejects(
      sendSnapshot(source, () => (connected++, new net.Socket()), { id: id as string }),
      { code: 'SNAP_ERR_INVALID_ARGUMENT' },
      name,
    );
  }
  t.equal(connected, 0, 'never connected');
});
