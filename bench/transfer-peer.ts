/**
 * One side of the transfer benchmark, in a process of its own.
 *   serve DIR         listens on 127.0.0.1, prints the port; on SIGTERM prints { maxRssMB }
 *   send FILE PORT    sends FILE as id "bench", prints { seconds, maxRssMB }
 */
import net from 'node:net';
import { createSnapshotServer, sendSnapshot } from 'snapstream';
import { peakRssMB } from './peak-rss.js';

const [, , mode, a, b] = process.argv;
const rss = (): number => peakRssMB();
if (mode === 'serve') {
  const server = createSnapshotServer({ dir: a!, secret: 'bench-secret', ...(process.env.SYNC_EVERY ? { syncEvery: Number(process.env.SYNC_EVERY) } : {}) });
  const address = (await server.listen({ port: 0 })) as net.AddressInfo;
  process.stdout.write(`${address.port}\n`);
  process.on('SIGTERM', () => {
    process.stdout.write(`${JSON.stringify({ maxRssMB: rss() })}\n`);
    process.exit(0);
  });
} else if (mode === 'send') {
  const start = performance.now();
  await sendSnapshot(a!, () => net.connect(Number(b), '127.0.0.1'), { id: 'bench', secret: 'bench-secret' });
  process.stdout.write(`${JSON.stringify({ seconds: (performance.now() - start) / 1000, maxRssMB: rss() })}\n`);
} else {
  process.stderr.write('usage: transfer-peer serve DIR | send FILE PORT\n');
  process.exit(2);
}
