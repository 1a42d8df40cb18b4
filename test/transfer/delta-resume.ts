/**
 * A delta transfer interrupted part way — the connection dropped, or the receiver stopped and
 * started again — resumes from what the receiver's partial holds: the sender offers again only
 * the frames past that point and carries on, and the installed file is byte-identical.
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import { createSnapshotServer, type SnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { deltaDir } from './fixtures/delta-snapshots.js';
import { listenLoopback } from './fixtures/listen-loopback.js';
import { onFirstConnection, watchMessages } from './fixtures/wire-watch.js';

t.test('a connection dropped mid-delta resumes from the partial', async (t) => {
  const { today, out } = await deltaDir(t);
  const port = await listenLoopback(t, createSnapshotServer({ dir: out }));
  // The first connection drops at the receiver's 5th ACK. (A receiver writing with O_DIRECT
  // acknowledges a whole slot of staged bytes at a time, or what it holds when the sender's
  // window is full: at least one ACK per window of 68 items, of this file's about 560.)
  const result = await sendSnapshot(today, onFirstConnection(port, 'ACK', 5, (socket) => socket.destroy()), { id: 'snap', retries: 5 });
  t.ok(fs.readFileSync(path.join(out, 'snap')).equals(fs.readFileSync(today)), 'byte-identical to the sender file');
  t.equal(result.connections, 2);
  t.ok(result.resumes[0]! > 0, `resumed at ${result.resumes[0]}`);
  t.equal(result.delta, true);
  t.ok(result.sentBytes < fs.statSync(today).size * 0.1, `${result.sentBytes} bytes sent in all`);
});

t.test('a receiver stopped mid-delta and started again resumes from its partial', async (t) => {
  const { today, out } = await deltaDir(t);
  let server: SnapshotServer = createSnapshotServer({ dir: out });
  let port = ((await server.listen({ port: 0 })) as net.AddressInfo).port;
  t.teardown(() => server.close());
  let restarted: Promise<void> | null = null;
  const result = await sendSnapshot(
    today,
    async () => {
      await restarted;
      const socket = net.connect(port, '127.0.0.1');
      if (!restarted) {
        watchMessages(socket, 'ACK', 5, () => {
          // The receiver goes away (dropping its connections), and a new one takes its directory.
          const old = server;
          restarted = old.close().then(async () => {
            server = createSnapshotServer({ dir: out });
            port = ((await server.listen({ port: 0 })) as net.AddressInfo).port;
          });
        });
      }
      return socket;
    },
    { id: 'snap', retries: 5 },
  );
  t.ok(fs.readFileSync(path.join(out, 'snap')).equals(fs.readFileSync(today)), 'byte-identical to the sender file');
  t.ok(result.connections >= 2);
  t.ok(result.resumes.some((r) => r > 0), `resumed at ${result.resumes.join(', ')}`);
  t.equal(result.delta, true);
  t.notOk(fs.existsSync(path.join(out, 'snap.partial')), 'no partial left');
});
