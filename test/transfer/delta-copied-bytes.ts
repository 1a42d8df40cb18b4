/**
 * A receiver ACKs a frame when its write completes but NACKs a damaged chunk (or a frame it
 * cannot copy) at once, so a NACK can overtake the ACKs of the frames before it. The sender
 * takes those late ACKs on the same connection (they name less than the NACK did), and its
 * `copiedBytes` counts every COPY the receiver took: the NACK's offset covers the COPYs before
 * it, counted then, not lost with the frames the sender goes back over.
 */
import t from 'tap';
import net from 'node:net';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import { CHUNK_END } from '../../lib/format/chunk-frame.js';
import { deltaDir } from './fixtures/delta-snapshots.js';
import { rawServer } from './fixtures/raw-server.js';

/**
 * A version 2 receiver that holds every frame offered, keeps the ACKs of the last `underWay`
 * frames back as if their writes were under way (as the snapshot server does), and NACKs the
 * chunk after the `nackAfter`th COPY as damaged, before those ACKs. `copied` resolves with the
 * bytes it took by COPY.
 */
function scriptedReceiver(t: Tap.Test, nackAfter: number, underWay: number): { port: Promise<number>; copied: Promise<number> } {
  let copied!: (n: number) => void;
  const result = new Promise<number>((resolve) => (copied = resolve));
  const port = rawServer(t, { offset: 0, version: 2 }, async (conn) => {
    let offset = 0;
    let copies = 0;
    let copiedBytes = 0;
    let nacked = false;
    const held: { seq: number; offset: number }[] = []; // ACKs of the writes under way
    const flush = async (keep = 0): Promise<void> => {
      while (held.length > keep) await conn.send('ACK', { ...held.shift()!, durable: 0 });
    };
    for (;;) {
      const item = await conn.next(5000);
      if (item.kind === 'message') {
        const { type, body } = item.message;
        if (type === 'OFFER') {
          const n = String(body.digests).length / 32;
          await conn.send('HAVE', { index: body.index, bits: Buffer.alloc(Math.ceil(n / 8), 0xff).toString('base64') });
          continue;
        }
        if (type !== 'COPY' || body.offset !== offset) continue; // a gap after the NACK: dropped
        offset += Number(body.length);
        copiedBytes += Number(body.length);
        copies++;
        held.push({ seq: Number(body.seq), offset });
        await flush(underWay);
        continue;
      }
      const f = item.frame;
      if (f.type === CHUNK_END) {
        await flush();
        if (f.offset !== offset) continue;
        await conn.send('DONE', { length: offset, crc: f.crc32 });
        copied(copiedBytes);
        return;
      }
      if (f.offset !== offset) continue;
      if (!nacked && copies === nackAfter) {
        // Damaged on the way: NACKed at once, while the writes before it are still under way.
        nacked = true;
        await conn.send('NACK', { seq: f.seq, offset });
        await flush();
        continue;
      }
      offset += f.length;
      held.push({ seq: f.seq, offset });
      await flush(underWay);
    }
  });
  return { port, copied: result };
}

t.test('a COPY whose ACK a NACK overtook is counted', async (t) => {
  const { today } = await deltaDir(t, { count: 8000 });
  const receiver = scriptedReceiver(t, 3, 1);
  const result = await sendSnapshot(today, net.connect(await receiver.port, '127.0.0.1'), { id: 'snap', idleTimeoutMs: 5000 });
  const copied = await receiver.copied;
  t.equal(result.nacks, 1, 'one chunk sent again');
  t.equal(result.connections, 1);
  t.ok(copied > 0, `${copied} bytes copied`);
  t.equal(result.copiedBytes, copied, 'the sender counts what the receiver copied');
});

t.test('ACKs that come after the NACK, naming less than it did, are taken on the same connection', async (t) => {
  const { today } = await deltaDir(t, { count: 8000 });
  const receiver = scriptedReceiver(t, 3, 2);
  // One stream, no way to reconnect: a sender that took a late ACK for a protocol error fails.
  const result = await sendSnapshot(today, net.connect(await receiver.port, '127.0.0.1'), { id: 'snap', idleTimeoutMs: 5000 });
  t.equal(result.nacks, 1, 'one chunk sent again');
  t.equal(result.copiedBytes, await receiver.copied, 'the sender counts what the receiver copied');
});
