/**
 * A cancelled sendSnapshot rejects with SNAP_ERR_CANCELLED (a CancelledError), the abort's
 * reason as its `cause` — aborted mid-transfer, before it starts, or while it waits to
 * reconnect — and the receiver keeps its partial for a later resume.
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { CancelledError } from '../../lib/errors.js';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x96914a0f);

const MiB = 1024 * 1024;

t.test('aborted mid-transfer', async (t) => {
  const dir = t.testdir({ out: {} });
  const out = path.join(dir, 'out');
  const source = path.join(dir, 'src');
  const data = randomBytes(32 * MiB);
  fs.writeFileSync(source, data);
  const server = createSnapshotServer({ dir: out });
  const ended = new Promise((resolve) => server.once('transfer-error', resolve));
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());

  const ac = new AbortController();
  const reason = new Error('shutting down');
  const err = await sendSnapshot(source, () => net.connect(port, '127.0.0.1'), {
    id: 'snap',
    fixedChunkSize: true,
    signal: ac.signal,
    onProgress: () => ac.abort(reason),
  }).then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(err instanceof CancelledError, 'a CancelledError');
  t.match(err, { code: 'SNAP_ERR_CANCELLED' });
  t.equal((err as Error).cause, reason, 'the reason is the cause');
  await ended;
  t.ok(fs.statSync(path.join(out, 'snap.partial')).size > 0, 'the receiver keeps its partial');
  t.notOk(fs.existsSync(path.join(out, 'snap')));
});

t.test('aborted before it starts', async (t) => {
  const source = path.join(t.testdir(), 'src');
  fs.writeFileSync(source, 'x');
  let connected = 0;
  const err = await sendSnapshot(source, () => (connected++, new net.Socket()), { id: 'snap', signal: AbortSignal.abort() }).then(
    () => null,
    (e: unknown) => e,
  );
  t.match(err, { code: 'SNAP_ERR_CANCELLED' });
  t.match((err as Error).cause, { name: 'AbortError' }, 'the default reason');
  t.equal(connected, 0, 'never connected');
});

t.test('aborted while waiting to reconnect', async (t) => {
  const dir = t.testdir();
  const source = path.join(dir, 'src');
  fs.writeFileSync(source, 'x');
  // Nothing listens there: every attempt fails, and the sender waits before the next.
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  const ac = new AbortController();
  let attempts = 0;
  const err = await sendSnapshot(
    source,
    () => {
      if (++attempts === 2) ac.abort('enough');
      return net.connect(port, '127.0.0.1');
    },
    { id: 'snap', retries: 100, signal: ac.signal },
  ).then(
    () => null,
    (e: unknown) => e,
  );
  t.match(err, { code: 'SNAP_ERR_CANCELLED' });
  t.equal((err as Error).cause, 'enough');
  t.equal(attempts, 2, 'no attempt after the abort');
});
