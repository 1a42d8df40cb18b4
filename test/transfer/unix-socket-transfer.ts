/**
 * A server listening on a Unix socket receives a snapshot sent with `net.connect(path)`,
 * byte-identical, resuming after a dropped connection like over TCP.
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';

const MiB = 1024 * 1024;

t.test('over a Unix socket', async (t) => {
  const dir = t.testdir({ out: {} });
  // Socket paths are short (108 bytes): keep it in a short temporary directory.
  const sockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'snap-'));
  t.teardown(() => fs.rmSync(sockDir, { recursive: true, force: true }));
  const socketPath = path.join(sockDir, 's.sock');
  const source = path.join(dir, 'src');
  const data = randomBytes(13 * MiB + 77);
  fs.writeFileSync(source, data);

  const server = createSnapshotServer({ dir: path.join(dir, 'out') });
  t.equal(await server.listen({ path: socketPath }), socketPath, 'listens on the path');
  t.teardown(() => server.close());

  // The first connection is cut once the server has acknowledged 8 MiB; the second carries on.
  const sockets: net.Socket[] = [];
  server.on('progress', (p: { bytes: number }) => {
    if (p.bytes >= 8 * MiB && sockets.length === 1) sockets[0]!.destroy();
  });
  const connect = (): net.Socket => {
    const socket = net.connect(socketPath);
    sockets.push(socket);
    return socket;
  };
  const result = await sendSnapshot(source, connect, { id: 'unix', fixedChunkSize: true });
  t.equal(result.connections, 2);
  t.ok(result.resumes[0]! >= 8 * MiB, `resumed from ${result.resumes[0]}`);
  t.ok(fs.readFileSync(path.join(dir, 'out', 'unix')).equals(data), 'byte-identical');
});
