/**
 * A connection handed to sendSnapshot directly (not a factory) belongs to it at once: if it
 * fails before the protocol starts (nothing listening, say), the call rejects with
 * SNAP_ERR_NETWORK at once — no unhandled 'error', no idle timeout — and if the call fails on
 * its arguments, the connection is closed rather than left open.
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';

t.test('a refused connection rejects at once', async (t) => {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const source = path.join(t.testdir(), 'src');
  fs.writeFileSync(source, 'x');
  const started = Date.now();
  await t.rejects(sendSnapshot(source, net.connect(port, '127.0.0.1'), { id: 'x', idleTimeoutMs: 10_000 }), {
    code: 'SNAP_ERR_NETWORK',
    message: /ECONNREFUSED/,
  });
  t.ok(Date.now() - started < 2000, 'without waiting for the idle timeout');
});

t.test('bad arguments close the connection handed over', async (t) => {
  const server = net.createServer();
  const closed = new Promise<void>((resolve) => server.on('connection', (s) => s.on('close', () => resolve())));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await t.rejects(sendSnapshot('/nonexistent/file', socket, { id: 'x' }), { code: 'SNAP_ERR_IO' });
  t.ok(socket.destroyed, 'the socket is destroyed');
  await closed; // and the peer sees it close
});
