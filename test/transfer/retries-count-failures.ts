/**
 * `retries` bounds the failed connection attempts *in a row*: a transfer whose connection drops
 * more often than `retries`, but gains ground on every connection, still completes (and the
 * backoff does not grow with the total number of drops); attempts that get nowhere exhaust it.
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import { startFaultProxy } from './fixtures/fault-proxy.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x834dba9b);

const MiB = 1024 * 1024;

t.test('six drops with retries: 2 still finish, each connection having made progress', async (t) => {
  const dir = t.testdir({ out: {} });
  const source = path.join(dir, 'src');
  const data = randomBytes(64 * MiB);
  fs.writeFileSync(source, data);
  const server = createSnapshotServer({ dir: path.join(dir, 'out') });
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());
  const proxy = await startFaultProxy({ target: { port }, seed: 3, up: { drops: { count: 6, every: [8 * MiB, 9 * MiB] } } });
  t.teardown(() => proxy.close());

  const result = await sendSnapshot(source, () => net.connect(proxy.port, '127.0.0.1'), { id: 'snap', retries: 2, fixedChunkSize: true });
  t.equal(result.connections, 7, 'six drops, seven connections');
  t.ok(fs.readFileSync(path.join(dir, 'out', 'snap')).equals(data));
  // The backoff restarts after progress: about 100 ms after each drop, where a backoff growing
  // with every attempt would reach 1.6 s and 2 s by the fifth and sixth.
  const drops = proxy.faults.filter((f) => f.kind === 'drop');
  drops.forEach((d, i) => {
    const pause = proxy.connectedAt[i + 1]! - d.time;
    t.ok(pause < 800, `reconnected ${pause} ms after drop ${i + 1}`);
  });
  for (let i = 1; i < result.resumes.length; i++) t.ok(result.resumes[i]! > result.resumes[i - 1]!, `resume ${i} got further`);
  // The whole-file CRC is carried over each resume from the chunk boundaries already passed:
  // the file is not read again from the start up to each resume offset.
  const fromStart = result.resumes.reduce((a, b) => a + b, 0);
  t.ok(result.rereadBytes <= result.resumes.length * 4 * MiB, `${result.rereadBytes} bytes re-read for CRCs, not ${fromStart}`);
});

t.test('attempts that get nowhere use up the retries', async (t) => {
  // A port nobody listens on.
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const source = path.join(t.testdir(), 'src');
  fs.writeFileSync(source, randomBytes(1000));
  let calls = 0;
  await t.rejects(
    sendSnapshot(source, () => (calls++, net.connect(port, '127.0.0.1')), { id: 'snap', retries: 3 }),
    { code: 'SNAP_ERR_NETWORK' },
  );
  t.equal(calls, 3, 'three attempts');
});
