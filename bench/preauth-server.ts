/**
 * The server side of the pre-authentication fault run, in a process of its own so that its RSS
 * is its own: `node preauth-server.js DIR SECRET` listens on 127.0.0.1 with the default limits
 * and prints the port; it counts what it refused and prints that on SIGTERM.
 */
import net from 'node:net';
import { createSnapshotServer } from 'snapstream';

const [, , dir, secret] = process.argv;
const server = createSnapshotServer({ dir: dir!, secret: secret! });
const refused: Record<string, number> = {};
server.on('refused', (r: { code: string }) => void (refused[r.code] = (refused[r.code] ?? 0) + 1));
server.on('connection-error', () => {});
server.on('transfer-error', () => {});
const address = (await server.listen({ port: 0 })) as net.AddressInfo;
process.stdout.write(`${address.port}\n`);
process.on('SIGTERM', () => {
  process.stdout.write(`${JSON.stringify({ refused })}\n`);
  process.exit(0);
});
