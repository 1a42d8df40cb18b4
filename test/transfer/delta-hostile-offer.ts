/**
 * Digest lists are bounded on both sides, whatever a peer claims. A sender's OFFER is answered
 * one message at a time (at most 1,024 digests, in order) and no more digests than the
 * announced size could hold are taken: beyond that, CANCEL SNAP_ERR_LIMIT. A receiver's HAVE
 * must answer the very batch offered, bit for bit, or the sender drops it.
 */
import t from 'tap';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { connect, handshake } from './fixtures/raw-client.js';
import { rawServer } from './fixtures/raw-server.js';
import { writeDeltaPair } from './fixtures/delta-snapshots.js';

const digest = (i: number): string => i.toString(16).padStart(32, '0');

async function server(t: Tap.Test): Promise<{ port: number; errors: Error[] }> {
  const dir = t.testdir({});
  const s = createSnapshotServer({ dir });
  const errors: Error[] = [];
  s.on('transfer-error', (_i: unknown, err: Error) => errors.push(err));
  const port = ((await s.listen({ port: 0 })) as net.AddressInfo).port;
  t.teardown(() => s.close());
  return { port, errors };
}

t.test('an OFFER claiming more frames than the size holds is cancelled with SNAP_ERR_LIMIT', async (t) => {
  const { port } = await server(t);
  const conn = await connect(port);
  t.teardown(() => conn.destroy());
  // 1,000 bytes hold at most 1000 / 16 + 1 = 63 frames.
  const accept = await handshake(conn, { id: 'snap', size: 1000, maxVersion: 2 });
  t.equal(accept.body.version, 2);
  await conn.send('OFFER', { index: 0, digests: Array.from({ length: 60 }, (_, i) => digest(i)).join('') });
  const have = await conn.expect(['HAVE'], 5000);
  t.equal(Buffer.from(have.body.bits as string, 'base64').length, 8, 'answered, 60 bits');
  await conn.send('OFFER', { index: 60, digests: Array.from({ length: 10 }, (_, i) => digest(i)).join('') });
  const cancel = await conn.expect(['CANCEL'], 5000);
  t.equal(cancel.body.code, 'SNAP_ERR_LIMIT');
});

t.test('a huge file may offer many batches, each answered and none kept', async (t) => {
  const { port } = await server(t);
  const conn = await connect(port);
  t.teardown(() => conn.destroy());
  await handshake(conn, { id: 'snap', size: 2 ** 30, maxVersion: 2 });
  const batch = Array.from({ length: 1024 }, (_, i) => digest(i)).join('');
  for (let index = 0; index < 64 * 1024; index += 1024) {
    await conn.send('OFFER', { index, digests: batch });
    const have = await conn.expect(['HAVE'], 5000);
    if (have.body.index !== index) t.fail(`HAVE ${String(have.body.index)} for ${index}`);
  }
  t.pass('65,536 digests offered and answered in 64 bounded messages');
});

t.test('malformed OFFERs drop the connection', async (t) => {
  const bad = [
    { index: 0, digests: Array.from({ length: 1025 }, (_, i) => digest(i)).join('') }, // over 1,024 in one message
    { index: 5, digests: digest(1) }, // out of order
    { index: 0, digests: 'zz'.repeat(16) }, // not hex
    { index: 0, digests: 'ab' }, // not whole digests
  ];
  for (const body of bad) {
    const { port, errors } = await server(t);
    const conn = await connect(port);
    await handshake(conn, { id: 'snap', size: 1 << 20, maxVersion: 2 });
    await conn.send('OFFER', body);
    await t.rejects(conn.next(5000), { code: 'SNAP_ERR_NETWORK' }, `dropped: ${JSON.stringify(body).slice(0, 40)}`);
    t.equal(errors[0]?.message.includes('OFFER'), true);
    conn.destroy();
  }
});

t.test('a receiver whose HAVE does not answer the OFFER is dropped by the sender', async (t) => {
  const dir = t.testdir({});
  const yesterday = path.join(dir, 'yesterday');
  const today = path.join(dir, 'today');
  await writeDeltaPair(yesterday, today, 4000);
  const port = await rawServer(t, { offset: 0, version: 2 }, async (conn) => {
    const offer = await conn.expect(['OFFER'], 5000);
    // 64 KiB of bits for a batch of a few dozen frames.
    await conn.send('HAVE', { index: offer.body.index, bits: Buffer.alloc(40_000, 0xff).toString('base64') });
  });
  await t.rejects(sendSnapshot(today, net.connect(port, '127.0.0.1'), { id: 'snap' }), { code: 'SNAP_ERR_PROTOCOL' });
  t.ok(fs.existsSync(today));
});
