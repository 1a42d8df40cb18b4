/**
 * The server's `idleTimeoutMs` drops a client that goes silent: one that connects and says
 * nothing, one that says HELLO and then nothing (both told so in a REFUSE SNAP_ERR_TIMEOUT: the
 * handshake is bounded by the shorter of the idle and handshake timeouts), one that stops in the
 * middle of sending chunks (whose partial stays, for a later resume). Each is dropped not before
 * the idle timeout, and for it (the server reports SNAP_ERR_TIMEOUT); the test waits for the
 * drop itself, with no deadline of its own, so a loaded machine cannot fail it.
 */
import t from 'tap';
import { once } from 'node:events';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { createSnapshotServer, type SnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { chunk, connect, handshake } from './fixtures/raw-client.js';
import type { WireConnection } from '../../lib/transfer/wire-connection.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0xf93de3de);

const IDLE = 1000;
const MiB = 1024 * 1024;
/** Waits for answers the server gives at once: no deadline of its own but the test's. */
const PROMPT = 2 ** 31 - 1;

/**
 * Milliseconds from now until the server drops the connection, which must be for its idle
 * timeout: the server reports a SNAP_ERR_TIMEOUT and then closes. A client still in its
 * handshake is told so in a REFUSE (reported as `refused`); a transfer under way as a
 * `transfer-error`. No deadline of our own (a loaded machine may take its time): a server that
 * never drops fails by the test's timeout.
 */
async function timeToDrop(server: SnapshotServer, event: 'refused' | 'transfer-error', conn: WireConnection): Promise<{ ms: number; code: unknown }> {
  const started = Date.now();
  const reported = once(server, event);
  let ms = -1;
  for (;;) {
    const item = await conn.next(PROMPT).then(
      (item) => item,
      (err: { code?: string }) => {
        if (err.code !== 'SNAP_ERR_NETWORK') throw err;
        return null;
      },
    );
    if (item === null) break;
    const refusal = item.kind === 'message' && item.message.type === 'REFUSE' && item.message.body.code === 'SNAP_ERR_TIMEOUT';
    if (event !== 'refused' || ms >= 0 || !refusal) throw new Error(`unexpected ${JSON.stringify(item)}`);
    ms = Date.now() - started;
  }
  if (event === 'refused' && ms < 0) throw new Error('no REFUSE before the connection closed');
  if (ms < 0) ms = Date.now() - started;
  const args = await reported;
  return { ms, code: (args.at(-1) as { code?: unknown }).code };
}

t.test('silent clients are dropped after the idle timeout', async (t) => {
  const dir = t.testdir();
  const server = createSnapshotServer({ dir, idleTimeoutMs: IDLE });
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());

  // Dropped not before the idle timeout (less a little: the server's timer starts when it last
  // sent, a moment before we start counting), and for it: the server says SNAP_ERR_TIMEOUT.
  const mute = await connect(port);
  const muteDrop = await timeToDrop(server, 'refused', mute);
  t.ok(muteDrop.ms >= IDLE - 100, `connected, said nothing: dropped after ${muteDrop.ms} ms`);
  t.equal(muteDrop.code, 'SNAP_ERR_TIMEOUT', 'for the idle timeout');

  const hello = await connect(port);
  await hello.send('HELLO', { version: 1, id: 'snap', size: 100, meta: {}, nonce: 'n' });
  t.match(await hello.expect(['CHALLENGE'], PROMPT), { type: 'CHALLENGE' });
  const helloDrop = await timeToDrop(server, 'refused', hello);
  t.ok(helloDrop.ms >= IDLE - 100, `said HELLO, then nothing: dropped after ${helloDrop.ms} ms`);
  t.equal(helloDrop.code, 'SNAP_ERR_TIMEOUT', 'for the idle timeout');

  const data = randomBytes(8 * MiB);
  const stalled = await connect(port);
  t.match(await handshake(stalled, { id: 'stalled', size: data.length }), { type: 'ACCEPT' });
  await stalled.write(chunk(0, 0, data.subarray(0, 4 * MiB)));
  t.match(await stalled.expect(['ACK'], PROMPT), { body: { offset: 4 * MiB } });
  const stalledDrop = await timeToDrop(server, 'transfer-error', stalled);
  t.ok(stalledDrop.ms >= IDLE - 100, `stopped mid-transfer: dropped after ${stalledDrop.ms} ms`);
  t.equal(stalledDrop.code, 'SNAP_ERR_TIMEOUT', 'for the idle timeout');
  t.equal(fs.statSync(path.join(dir, 'stalled.partial')).size, 4 * MiB, 'the partial stays');
  t.equal(server.transfers, 0, 'no transfer left under way');

  const again = await connect(port);
  t.match(await handshake(again, { id: 'stalled', size: data.length }), { type: 'ACCEPT', body: { offset: 4 * MiB } }, 'a later connection resumes it');
  again.destroy();
});
