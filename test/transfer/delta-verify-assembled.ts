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
import { readDataFrames } from '../../lib/transfer/data-frames.js';
import { writeDeltaPair } from './fixtures/delta-snapshots.js';

async function frames(file: string): Promise<{ offset: number; length: number; digest: Buffer }[]> {
  const handle = await fs.promises.open(file, 'r');
  try {
    return (await readDataFrames(handle, (await handle.stat()).size))!;
  } finally {
    await handle.close();
  }
}

t.test('a data frame that does not match its block header is caught before install', async (t) => {
  const dir = t.testdir({ out: {} });
  const yesterday = path.join(dir, 'yesterday');
  const today = path.join(dir, 'today');
  await writeDeltaPair(yesterday, today);
  fs.copyFileSync(yesterday, path.join(dir, 'out', 'snap'));
  const held = new Set((await frames(yesterday)).map((f) => f.digest.toString('hex')));
  const sent = (await frames(today)).find((f) => !held.has(f.digest.toString('hex')))!;
  const fd = fs.openSync(today, 'r+');
  fs.writeSync(fd, Buffer.from('rot'), 0, 3, sent.offset + 5);
  fs.closeSync(fd);

  const server = createSnapshotServer({ dir: path.join(dir, 'out') });
  const errors: Error[] = [];
  server.on('transfer-error', (_i: unknown, err: Error) => errors.push(err));
  const port = ((await server.listen({ port: 0 })) as net.AddressInfo).port;
  t.teardown(() => server.close());
  await t.rejects(sendSnapshot(today, net.connect(port, '127.0.0.1'), { id: 'snap' }), { code: 'SNAP_ERR_CHECKSUM' });
  t.ok(fs.readFileSync(path.join(dir, 'out', 'snap')).equals(fs.readFileSync(yesterday)), 'the old file stays');
  t.notOk(fs.existsSync(path.join(dir, 'out', 'snap.partial')), 'the assembled partial is discarded');
  t.match(errors[0]?.message ?? '', /block header/);
});
