/**
 * A malformed `mac` in AUTH — 64 non-ASCII characters (64 characters, more bytes), not hex, the
 * wrong length, not a string — is answered REFUSE SNAP_ERR_AUTH like any wrong one, never with
 * a dropped connection or an untyped crypto error; the right mac, in either case of hex, works.
 * A sender given such a proof by a server fails with SNAP_ERR_AUTH, not a RangeError.
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import { authProof, proofMatches } from '../../lib/transfer/auth.js';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import { connect, handshake } from './fixtures/raw-client.js';
import { rawServer } from './fixtures/raw-server.js';

const SECRET = 'the secret';

const malformed: [string, unknown][] = [
  ['64 non-ASCII letters', 'é'.repeat(64)],
  ['64 emoji', '😀'.repeat(64)],
  ['64 characters, not hex', 'g'.repeat(64)],
  ['63 hex digits', 'a'.repeat(63)],
  ['66 hex digits', 'a'.repeat(66)],
  ['empty', ''],
  ['a number', 42],
  ['an array', ['a'.repeat(64)]],
  ['null', null],
];

t.test('malformed macs: REFUSE SNAP_ERR_AUTH', async (t) => {
  const server = createSnapshotServer({ dir: t.testdir(), secret: SECRET });
  const errors: unknown[] = [];
  server.on('connection-error', (err) => errors.push(err));
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());
  for (const [name, mac] of malformed) {
    const conn = await connect(port);
    t.match(await handshake(conn, { id: 'snap', size: 10, mac: mac as string }), { type: 'REFUSE', body: { code: 'SNAP_ERR_AUTH' } }, name);
    conn.destroy();
  }
  t.same(errors, [], 'no connection error on the server');
});

t.test('proofMatches compares bytes, strictly', async (t) => {
  const expected = authProof(SECRET, 'client', 'id', 'a', 'b');
  t.ok(proofMatches(expected, expected));
  t.ok(proofMatches(expected, expected.toUpperCase()), 'hex in either case');
  for (const [name, mac] of malformed) t.notOk(proofMatches(expected, mac), name);
  t.notOk(proofMatches(expected, `${expected.slice(0, 63)}x`), 'one digit not hex');
  t.notOk(proofMatches(expected, authProof('other', 'client', 'id', 'a', 'b')), 'another secret');
});

t.test('a server answering with a malformed proof: the sender fails with SNAP_ERR_AUTH', async (t) => {
  const dir = t.testdir();
  const source = `${dir}/src`;
  fs.writeFileSync(source, 'x'.repeat(1000));
  const port = await rawServer(t, { offset: 0, proof: 'é'.repeat(64) }, undefined, true);
  await t.rejects(sendSnapshot(source, net.connect(port, '127.0.0.1'), { id: 'snap', secret: SECRET }), {
    code: 'SNAP_ERR_AUTH',
  });
});
