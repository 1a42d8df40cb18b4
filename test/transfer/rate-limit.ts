/**
 * `rateLimit` paces the sender: a transfer takes at least size / rate; and after a reconnect
 * the pace is kept from the new connection's start, without first waiting out the time the
 * bytes already sent would have taken again.
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import { startFaultProxy } from './fixtures/fault-proxy.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0xa0cee3f6);

const MiB = 1024 * 1024;

t.test('rate limited, with a drop three quarters of the way', async (t) => {
  const dir = t.testdir({ out: {} });
  const source = path.join(dir, 'src');
  const data = randomBytes(32 * MiB);
  fs.writeFileSync(source, data);
  const server = createSnapshotServer({ dir: path.join(dir, 'out') });
  const starts: number[] = [];
  const acks: number[][] = [];
  server.on('transfer-start', () => (starts.push(Date.now()), acks.push([])));
  server.on('progress', () => acks[acks.length - 1]!.push(Date.now()));
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());
  const proxy = await startFaultProxy({ target: { port }, seed: 5, up: { drops: { count: 1, every: [25 * MiB, 25 * MiB] } } });
  t.teardown(() => proxy.close());

  const rate = 32 * MiB; // bytes per second
  const started = Date.now();
  const result = await sendSnapshot(source, () => net.connect(proxy.port, '127.0.0.1'), { id: 'snap', rateLimit: rate, fixedChunkSize: true });
  const elapsed = Date.now() - started;
  t.equal(result.connections, 2);
  t.ok(fs.readFileSync(path.join(dir, 'out', 'snap')).equals(data));
  // Each connection is paced from its own start: one chunk's worth of time before the first.
  const paced = ((result.sentBytes - 2 * 4 * MiB) / rate) * 1000;
  t.ok(elapsed >= paced, `${elapsed} ms: no faster than the limit (${Math.round(paced)} ms)`);
  // After the drop, the first chunk comes after about a chunk's time at the limit (125 ms), not
  // after waiting out the 25 MiB and more sent on the first connection again (at least 29 MiB
  // at the limit: 906 ms of sleep before the first chunk). No fixed window: what counts as "about
  // a chunk's time" is measured on the first connection, under the same load: the gap between
  // two of its acknowledgements (the median). A correct sender fails this only if its first chunk
  // took longer than three such gaps and longer than the sleep a wrong one would add.
  const firstAck = acks[1]![0]! - starts[1]!;
  const gaps = acks[0]!.slice(1).map((at, i) => at - acks[0]![i]!).sort((a, b) => a - b);
  const gap = gaps[Math.floor(gaps.length / 2)]!;
  const waitedOut = ((25 * MiB) / rate) * 1000;
  t.ok(gaps.length >= 2, `${gaps.length + 1} chunks acknowledged on the first connection`);
  t.ok(
    firstAck < Math.max(3 * gap, waitedOut),
    `first chunk acknowledged ${firstAck} ms into the second connection; a chunk took ${gap} ms on the first (waiting out its bytes: over ${Math.round(waitedOut)} ms)`,
  );
});
