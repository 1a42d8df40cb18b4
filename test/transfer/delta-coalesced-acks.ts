/**
 * A delta receiver acknowledges the writes completed in one turn of the event loop with one ACK
 * (for the last of them): far fewer ACKs than frames copied, and the sender still counts every
 * copied byte (each COPY an ACK covers).
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { readDataFrames } from '../../lib/transfer/data-frames.js';
import { MessageType } from '../../lib/transfer/wire.js';
import { writeDeltaPair } from './fixtures/delta-snapshots.js';

async function digests(file: string): Promise<string[]> {
  const handle = await fs.promises.open(file, 'r');
  try {
    return (await readDataFrames(handle, (await handle.stat()).size))!.map((f) => f.digest.toString('hex'));
  } finally {
    await handle.close();
  }
}

t.test('one ACK for the writes of a turn; every copied byte counted', async (t) => {
  const dir = t.testdir({ out: {} });
  const yesterday = path.join(dir, 'yesterday');
  const today = path.join(dir, 'today');
  await writeDeltaPair(yesterday, today);
  fs.copyFileSync(yesterday, path.join(dir, 'out', 'snap'));
  const held = new Set(await digests(yesterday));
  const copied = (await digests(today)).filter((d) => held.has(d)).length;
  t.ok(copied > 100, `${copied} frames to copy`);

  const server = createSnapshotServer({ dir: path.join(dir, 'out') });
  const installed: { copiedBytes?: number }[] = [];
  server.on('installed', (i: { copiedBytes?: number }) => installed.push(i));
  const port = ((await server.listen({ port: 0 })) as net.AddressInfo).port;
  t.teardown(() => server.close());

  // The receiver sends control messages only: their magic and type mark each one.
  let acks = 0;
  const ack = Buffer.from([0x53, 0x4e, 0x50, 0x4d, MessageType.ACK]);
  const result = await sendSnapshot(
    today,
    () => {
      const socket = net.connect(port, '127.0.0.1');
      let tail = Buffer.alloc(0);
      socket.on('data', (data: Buffer) => {
        const text = Buffer.concat([tail, data]);
        for (let at = text.indexOf(ack); at >= 0; at = text.indexOf(ack, at + 1)) acks++;
        tail = text.subarray(Math.max(0, text.length - ack.length + 1));
      });
      return socket;
    },
    { id: 'snap' },
  );
  t.ok(fs.readFileSync(path.join(dir, 'out', 'snap')).equals(fs.readFileSync(today)), 'byte-identical to the sender file');
  t.ok(acks > 0 && acks < copied, `${acks} ACKs for ${copied} copied frames and the chunks between them`);
  t.equal(result.copiedBytes, installed[0]?.copiedBytes, 'the sender counts every byte the receiver copied');
  t.equal(result.sentBytes + result.copiedBytes, fs.statSync(today).size);
});
