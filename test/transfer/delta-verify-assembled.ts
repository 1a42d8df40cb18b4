/**
 * Before installing a file assembled by a delta, the receiver checks it as a snapshot: every
 * metadata frame, the chain of prefix CRCs, the footer, and each data frame against its block
 * header's CRC. A sender whose own file is damaged in a frame it sends (the bytes no longer match
 * their block header, though they cross the wire intact) gets SNAP_ERR_CHECKSUM and nothing is
 * installed: the receiver's old file stays.
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { deltaDir } from './fixtures/delta-snapshots.js';
import { framesOf } from './fixtures/frames-of.js';
import { listenLoopback } from './fixtures/listen-loopback.js';

t.test('a data frame that does not match its block header is caught before install', async (t) => {
  const { yesterday, today, out } = await deltaDir(t);
  const held = new Set((await framesOf(yesterday)).map((f) => f.digest.toString('hex')));
  const sent = (await framesOf(today)).find((f) => !held.has(f.digest.toString('hex')))!;
  const fd = fs.openSync(today, 'r+');
  fs.writeSync(fd, Buffer.from('rot'), 0, 3, sent.offset + 5);
  fs.closeSync(fd);

  const server = createSnapshotServer({ dir: out });
  const errors: Error[] = [];
  server.on('transfer-error', (_i: unknown, err: Error) => errors.push(err));
  const port = await listenLoopback(t, server);
  await t.rejects(sendSnapshot(today, net.connect(port, '127.0.0.1'), { id: 'snap' }), { code: 'SNAP_ERR_CHECKSUM' });
  t.ok(fs.readFileSync(path.join(out, 'snap')).equals(fs.readFileSync(yesterday)), 'the old file stays');
  t.notOk(fs.existsSync(path.join(out, 'snap.partial')), 'the assembled partial is discarded');
  t.match(errors[0]?.message ?? '', /block header/);
});
