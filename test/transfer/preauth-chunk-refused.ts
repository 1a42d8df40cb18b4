/**
 * Before it has authenticated, a peer may send only control messages: a chunk frame — before
 * HELLO, or after HELLO but before AUTH — is refused at its header (REFUSE SNAP_ERR_PROTOCOL,
 * then the connection is closed) without waiting for, or holding, the data it announces.
 * Several such peers at once are all refused, nothing is written, and no transfer is left
 * under way; a legitimate sender then gets through.
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { CHUNK_DATA, encodeChunkHeader, MAX_CHUNK_SIZE } from '../../lib/format/chunk-frame.js';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import type { Message } from '../../lib/transfer/wire.js';
import type { WireConnection } from '../../lib/transfer/wire-connection.js';
import { connect } from './fixtures/raw-client.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x2e97d607);

/** The header of a 16 MiB data chunk (its data is never sent). */
const header = encodeChunkHeader({ type: CHUNK_DATA, seq: 0, offset: 0, length: MAX_CHUNK_SIZE, crc32: 0 });

/** The server's answer, then whether it closed the connection. */
async function answerAndClose(conn: WireConnection): Promise<{ answer: Message; closed: boolean }> {
  const answer = await conn.expect(['REFUSE'], 10_000);
  const closed = await conn.next(10_000).then(
    () => false,
    (err: { code?: string }) => err.code === 'SNAP_ERR_NETWORK',
  );
  return { answer, closed };
}

t.test('a chunk header before HELLO or before AUTH is refused at once', async (t) => {
  const dir = t.testdir();
  // The idle timeout is far away: the refusal must come from the header itself.
  const server = createSnapshotServer({ dir, idleTimeoutMs: 60_000, handshakeTimeoutMs: 60_000 });
  const refused: { code: string }[] = [];
  server.on('refused', (r) => refused.push(r));
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());

  const first = await connect(port);
  await first.write([header, randomBytes(64 * 1024)]);
  const a = await answerAndClose(first);
  t.match(a.answer, { type: 'REFUSE', body: { code: 'SNAP_ERR_PROTOCOL' } }, 'chunk before HELLO: REFUSE SNAP_ERR_PROTOCOL');
  t.ok(a.closed, 'and the connection is closed');

  const second = await connect(port);
  await second.send('HELLO', { version: 1, id: 'snap', size: 100, meta: {}, nonce: 'n' });
  t.match(await second.expect(['CHALLENGE'], 10_000), { type: 'CHALLENGE' });
  await second.write([header]);
  const b = await answerAndClose(second);
  t.match(b.answer, { type: 'REFUSE', body: { code: 'SNAP_ERR_PROTOCOL' } }, 'chunk after HELLO, before AUTH: refused');
  t.ok(b.closed);

  t.match(refused, [{ code: 'SNAP_ERR_PROTOCOL' }, { code: 'SNAP_ERR_PROTOCOL' }]);
  t.same(fs.readdirSync(dir), [], 'nothing written');
  t.equal(server.transfers, 0);
});

t.test('many unauthenticated peers sending chunk data: all refused, a sender still gets through', async (t) => {
  const dir = t.testdir({ out: {} });
  const out = path.join(dir, 'out');
  const server = createSnapshotServer({ dir: out, idleTimeoutMs: 60_000, handshakeTimeoutMs: 60_000 });
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());

  const junk = randomBytes(1024 * 1024);
  const peers = await Promise.all(Array.from({ length: 8 }, () => connect(port)));
  // Each announces 16 MiB and sends the first MiB of it; none is ever answered with anything
  // but a REFUSE, and none has to finish sending for that.
  const answers = await Promise.all(
    peers.map(async (p) => {
      void p.write([header, junk]).catch(() => {});
      return answerAndClose(p);
    }),
  );
  for (const a of answers) {
    t.match(a.answer, { body: { code: 'SNAP_ERR_PROTOCOL' } });
    t.ok(a.closed);
  }

  const source = path.join(dir, 'src');
  const data = randomBytes(5 * 1024 * 1024 + 3);
  fs.writeFileSync(source, data);
  await sendSnapshot(source, net.connect(port, '127.0.0.1'), { id: 'good' });
  t.ok(fs.readFileSync(path.join(out, 'good')).equals(data), 'the legitimate sender got through');
  t.same(fs.readdirSync(out), ['good'], 'nothing else written');
});
