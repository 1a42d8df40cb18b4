/**
 * Sixteen transfers at once (different ids, a few MiB each) to one server all complete, each
 * file byte-identical, with the server running them side by side.
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0xae5e1db3);

const MiB = 1024 * 1024;

t.test('16 concurrent transfers', async (t) => {
  const dir = t.testdir({ in: {}, out: {} });
  // Each transfer, once installed, waits for all sixteen to have started before it ends: so
  // they overlap by construction, however slowly a loaded machine starts them.
  let started = 0;
  let allStarted!: () => void;
  const allUnderWay = new Promise<void>((resolve) => (allStarted = resolve));
  const server = createSnapshotServer({ dir: path.join(dir, 'out'), onInstalled: () => allUnderWay });
  let most = 0;
  server.on('transfer-start', () => {
    most = Math.max(most, server.transfers);
    if (++started === 16) allStarted();
  });
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());

  const files = Array.from({ length: 16 }, (_, i) => {
    const data = randomBytes(2 * MiB + i * 300_001); // 2–6.3 MiB: one or two chunks
    const file = path.join(dir, 'in', `snap-${i}`);
    fs.writeFileSync(file, data);
    return { id: `snap-${i}`, file, data };
  });
  const results = await Promise.all(
    files.map((f) => sendSnapshot(f.file, () => net.connect(port, '127.0.0.1'), { id: f.id, retries: 1, rateLimit: 16 * MiB })),
  );
  for (const [i, f] of files.entries()) {
    t.equal(results[i]!.connections, 1, `${f.id}: one connection`);
    t.ok(fs.readFileSync(path.join(dir, 'out', f.id)).equals(f.data), `${f.id}: byte-identical`);
  }
  t.same(fs.readdirSync(path.join(dir, 'out')).filter((n) => n.endsWith('.partial')), [], 'no partials left');
  t.equal(most, 16, 'all sixteen were under way at once');
  t.equal(server.transfers, 0);
});
