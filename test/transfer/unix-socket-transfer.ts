/**
 * A server listening on a Unix socket receives a snapshot sent with `net.connect(path)`,
 * byte-identical, resuming after a dropped connection like over TCP.
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { sendSnapshot, type TransferProgress } from '../../lib/transfer/send-snapshot.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x2288dcab);

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
  const reports: TransferProgress[] = [];
  const result = await sendSnapshot(source, connect, { id: 'unix', fixedChunkSize: true, onProgress: (p) => reports.push(p) });
  t.equal(result.connections, 2);
  // What TransferProgress declares, and only that (no entries count: a transfer moves bytes).
  const keys: (keyof TransferProgress)[] = ['bytes', 'copied', 'eta', 'rate', 'total'];
  t.ok(reports.length > 0, 'progress was reported');
  t.same(Object.keys(reports.at(-1)!).sort(), keys, 'the fields TransferProgress declares');
  t.equal(reports.at(-1)!.bytes, data.length, 'the last report covers the file');
  t.ok(result.resumes[0]! >= 8 * MiB, `resumed from ${result.resumes[0]}`);
  t.ok(fs.readFileSync(path.join(dir, 'out', 'unix')).equals(data), 'byte-identical');
});
