/**
 * The server's `idleTimeout` drops a client that goes silent: one that connects and says
 * nothing, one that says HELLO and then nothing (both told so in a REFUSE SNAP_ERR_TIMEOUT: the
 * handshake is bounded by the shorter of the idle and handshake timeouts), one that stops in the
 * middle of sending chunks (whose partial stays, for a later resume). Each is dropped after
 * about the idle timeout, not before and not much later.
 */
import t from 'tap';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { chunk, connect, handshake } from './fixtures/raw-client.js';
import type { WireConnection } from '../../lib/transfer/wire-connection.js';

const IDLE = 300;
const MiB = 1024 * 1024;

/**
 * Milliseconds from now until the server closes the connection; a client still in its
 * handshake is told why first (REFUSE SNAP_ERR_TIMEOUT), and the time is until then.
 */
async function timeToDrop(conn: WireConnection, handshaking = false): Promise<number> {
  const started = Date.now();
  let ms = -1;
  for (;;) {
    const item = await conn.next(5000).then(
      (item) => item,
      (err: { code?: string }) => {
        if (err.code !== 'SNAP_ERR_NETWORK') throw err;
        return null;
      },
    );
    if (item === null) break;
    if (!handshaking || ms >= 0 || item.kind !== 'message' || item.message.type !== 'REFUSE' || item.message.body.code !== 'SNAP_ERR_TIMEOUT') {
      throw new Error(`unexpected ${JSON.stringify(item)}`);
    }
    ms = Date.now() - started;
  }
  if (handshaking && ms < 0) throw new Error('no REFUSE before the connection closed');
  return ms >= 0 ? ms : Date.now() - started;
}

t.test('silent clients are dropped after the idle timeout', async (t) => {
  const dir = t.testdir();
  const server = createSnapshotServer({ dir, idleTimeout: IDLE });
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());

  const mute = await connect(port);
  const muteMs = await timeToDrop(mute, true);
  t.ok(muteMs >= IDLE - 100 && muteMs < IDLE + 700, `connected, said nothing: dropped after ${muteMs} ms`);

  const hello = await connect(port);
  await hello.send('HELLO', { version: 1, id: 'snap', size: 100, meta: {}, nonce: 'n' });
  t.match(await hello.expect(['CHALLENGE'], 1000), { type: 'CHALLENGE' });
  const helloMs = await timeToDrop(hello, true);
  t.ok(helloMs >= IDLE - 100 && helloMs < IDLE + 700, `said HELLO, then nothing: dropped after ${helloMs} ms`);

  const data = randomBytes(8 * MiB);
  const stalled = await connect(port);
  t.match(await handshake(stalled, { id: 'stalled', size: data.length }), { type: 'ACCEPT' });
  await stalled.write(chunk(0, 0, data.subarray(0, 4 * MiB)));
  t.match(await stalled.expect(['ACK'], 2000), { body: { offset: 4 * MiB } });
  const stalledMs = await timeToDrop(stalled);
  t.ok(stalledMs >= IDLE - 100 && stalledMs < IDLE + 700, `stopped mid-transfer: dropped after ${stalledMs} ms`);
  t.equal(fs.statSync(path.join(dir, 'stalled.partial')).size, 4 * MiB, 'the partial stays');
  t.equal(server.transfers, 0, 'no transfer left under way');

  const again = await connect(port);
  t.match(await handshake(again, { id: 'stalled', size: data.length }), { type: 'ACCEPT', body: { offset: 4 * MiB } }, 'a later connection resumes it');
  again.destroy();
});
