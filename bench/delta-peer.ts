/**
 * One side of the delta benchmark, in a process of its own.
 *   serve DIR [--no-delta]         listens on 127.0.0.1, prints the port; on SIGTERM prints { maxRssMB }
 *   send FILE PORT [--no-delta] [--rate BYTES/S]
 *                                  sends FILE as id "bench", prints the SendResult with { seconds, maxRssMB }
 */
import net from 'node:net';
import { createSnapshotServer, sendSnapshot } from 'snapstream';
import { peakRssMB } from './peak-rss.js';

const [, , mode, a, b, ...rest] = process.argv;
const delta = !process.argv.includes('--no-delta');
if (mode === 'serve') {
  const server = createSnapshotServer({ dir: a!, secret: 'bench-secret', delta });
  const address = (await server.listen({ port: 0 })) as net.AddressInfo;
  process.stdout.write(`${address.port}\n`);
  process.on('SIGTERM', () => {
    process.stdout.write(`${JSON.stringify({ maxRssMB: peakRssMB() })}\n`);
    process.exit(0);
  });
} else if (mode === 'send') {
  const rate = rest.indexOf('--rate');
  const rateLimit = rate >= 0 ? Number(rest[rate + 1]) : 0;
  const start = performance.now();
  const result = await sendSnapshot(a!, () => net.connect(Number(b), '127.0.0.1'), {
    id: 'bench',
    secret: 'bench-secret',
    delta,
    ...(rateLimit > 0 ? { rateLimit } : {}),
  });
  process.stdout.write(`${JSON.stringify({ ...result, seconds: (performance.now() - start) / 1000, maxRssMB: peakRssMB() })}\n`);
} else {
  process.stderr.write('usage: delta-peer serve DIR [--no-delta] | send FILE PORT [--no-delta] [--rate BYTES/S]\n');
  process.exit(2);
}
