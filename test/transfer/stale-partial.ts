/**
 * A partial left by some other snapshot under the same id cannot end up in the installed file:
 * a same-size-or-shorter partial with other bytes is resumed, found wrong by the whole-file CRC
 * at the end frame, discarded, and the sender (reconnecting) sends everything again; a partial
 * longer than the snapshot now announced cannot be its prefix and is started afresh at once.
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0xc4d290ef);

const MiB = 1024 * 1024;

async function serve(t: { teardown(fn: () => unknown): void }, dir: string) {
  const server = createSnapshotServer({ dir });
  const errors: { code?: string }[] = [];
  server.on('transfer-error', (_i, err) => errors.push(err));
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());
  return { port, errors };
}

t.test('a shorter partial of other bytes is caught at the end and the file sent again', async (t) => {
  const dir = t.testdir({ out: {} });
  const out = path.join(dir, 'out');
  const data = randomBytes(10 * MiB);
  fs.writeFileSync(path.join(dir, 'src'), data);
  fs.writeFileSync(path.join(out, 'snap.partial'), randomBytes(6 * MiB)); // someone else's
  const { port, errors } = await serve(t, out);
  const result = await sendSnapshot(path.join(dir, 'src'), () => net.connect(port, '127.0.0.1'), { id: 'snap' });
  t.equal(result.resumedFrom, 6 * MiB, 'first resumed from the stale partial');
  t.same(result.resumes, [0], 'then, the partial discarded, from zero');
  t.match(errors, [{ code: 'SNAP_ERR_CHECKSUM' }], 'the whole-file CRC caught it');
  t.ok(fs.readFileSync(path.join(out, 'snap')).equals(data), 'the installed file is the one sent');
});

t.test('a partial longer than the snapshot is not resumed', async (t) => {
  const dir = t.testdir({ out: {} });
  const out = path.join(dir, 'out');
  const data = randomBytes(5 * MiB);
  fs.writeFileSync(path.join(dir, 'src'), data);
  fs.writeFileSync(path.join(out, 'snap.partial'), randomBytes(9 * MiB));
  const { port } = await serve(t, out);
  const result = await sendSnapshot(path.join(dir, 'src'), () => net.connect(port, '127.0.0.1'), { id: 'snap' });
  t.equal(result.resumedFrom, 0, 'started afresh');
  t.equal(result.connections, 1);
  t.ok(fs.readFileSync(path.join(out, 'snap')).equals(data));
});
