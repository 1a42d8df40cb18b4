/**
 * A receiver holding yesterday's snapshot receives today's as a delta: only the frames it lacks
 * (and the metadata frames) cross the wire, the rest it takes from its own copy, and the
 * installed file is byte-identical to the sender's — and to what a full transfer installs.
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { deltaDir } from './fixtures/delta-snapshots.js';

t.test('a delta transfer installs a file byte-identical to a full one, sending a fraction of it', async (t) => {
  const { dir, today, out } = await deltaDir(t);
  fs.mkdirSync(path.join(dir, 'full'));

  const server = createSnapshotServer({ dir: out });
  const full = createSnapshotServer({ dir: path.join(dir, 'full') });
  const installed: { copiedBytes?: number; version?: number }[] = [];
  server.on('installed', (i: { copiedBytes?: number; version?: number }) => installed.push(i));
  const port = ((await server.listen({ port: 0 })) as net.AddressInfo).port;
  const fullPort = ((await full.listen({ port: 0 })) as net.AddressInfo).port;
  t.teardown(() => Promise.all([server.close(), full.close()]));

  const size = fs.statSync(today).size;
  const delta = await sendSnapshot(today, () => net.connect(port, '127.0.0.1'), { id: 'snap' });
  const plain = await sendSnapshot(today, () => net.connect(fullPort, '127.0.0.1'), { id: 'snap' });

  const expected = fs.readFileSync(today);
  t.ok(fs.readFileSync(path.join(out, 'snap')).equals(expected), 'the delta install is byte-identical to the sender file');
  t.ok(fs.readFileSync(path.join(dir, 'full', 'snap')).equals(expected), 'and so is the full one');
  t.equal(delta.delta, true, 'a delta was negotiated');
  t.equal(plain.delta, false, 'no base on the other receiver: nothing held, all sent');
  t.equal(plain.sentBytes, size);
  t.equal(delta.sentBytes + delta.copiedBytes, size, 'every byte either sent or copied');
  t.ok(delta.sentBytes < size * 0.1, `only ${delta.sentBytes} of ${size} bytes sent`);
  t.ok(delta.wireBytes < size * 0.12, `${delta.wireBytes} bytes on the wire in all`);
  t.equal(installed[0]?.version, 2);
  t.equal(installed[0]?.copiedBytes, delta.copiedBytes, 'the receiver counts the same bytes copied');
});
