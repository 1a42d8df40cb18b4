/**
 * An acknowledgement means durable: the server sends DONE, emits `installed` and calls
 * `onInstalled` only once the final fsync, the rename and the directory fsync have succeeded.
 * When one of them fails (a non-empty directory at the final name, an injected fsync or rename
 * error, a failed directory fsync), the sender's promise rejects with the typed error the
 * receiver names (SNAP_ERR_IO), the server reports a transfer error and nothing installed, and
 * the partial keeps every byte: once the obstacle is gone, the next send resumes at the end.
 */
import t, { type Test } from 'tap';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import { failSync } from '../fixtures/fail-sync.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x3a7c5b7f);

const MiB = 1024 * 1024;

interface Setup {
  out: string;
  file: string;
  data: Buffer;
  port: number;
  installed: unknown[];
  errors: { code?: string }[];
}

async function setup(t: Test): Promise<Setup> {
  const dir = t.testdir({ out: {} });
  const out = path.join(dir, 'out');
  const file = path.join(dir, 'src');
  const data = randomBytes(9 * MiB + 123);
  fs.writeFileSync(file, data);
  const installed: unknown[] = [];
  const errors: { code?: string }[] = [];
  const server = createSnapshotServer({ dir: out, onInstalled: (i) => void installed.push(i) });
  server.on('installed', (i) => installed.push(i));
  server.on('transfer-error', (_i, err: { code?: string }) => errors.push(err));
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());
  return { out, file, data, port, installed, errors };
}

async function send(s: Setup): Promise<unknown> {
  return sendSnapshot(s.file, () => net.connect(s.port, '127.0.0.1'), { id: 'snap' }).then(
    () => null,
    (e: unknown) => e,
  );
}

/** The failed send, then the resumed one once the obstacle is gone. */
async function failsThenResumes(t: Test, s: Setup, clear: () => void): Promise<void> {
  const err = await send(s);
  t.match(err, { code: 'SNAP_ERR_IO' }, 'the sender is told: SNAP_ERR_IO');
  t.same(s.installed, [], 'no installed event, onInstalled not called');
  t.match(s.errors, [{ code: 'SNAP_ERR_IO' }], 'the server reports the transfer failed');
  t.equal(fs.statSync(path.join(s.out, 'snap.partial')).size, s.data.length, 'the partial holds every byte');
  clear();
  const result = await sendSnapshot(s.file, () => net.connect(s.port, '127.0.0.1'), { id: 'snap' });
  t.equal(result.resumedFrom, s.data.length, 'the next send resumes at the end');
  t.equal(result.sentBytes, 0, 'and sends no data again');
  t.ok(fs.readFileSync(path.join(s.out, 'snap')).equals(s.data), 'installed');
  t.equal(s.installed.length, 2, 'installed reported once, both ways');
}

t.test('a non-empty directory at the final name', async (t) => {
  const s = await setup(t);
  fs.mkdirSync(path.join(s.out, 'snap'));
  fs.writeFileSync(path.join(s.out, 'snap', 'keep'), 'x');
  await failsThenResumes(t, s, () => {
    t.equal(fs.readFileSync(path.join(s.out, 'snap', 'keep'), 'utf8'), 'x', 'the directory is untouched');
    fs.rmSync(path.join(s.out, 'snap'), { recursive: true });
  });
});

t.test('an injected rename error', async (t) => {
  const s = await setup(t);
  const realRename = fsp.rename;
  const restore = (): void => void (fsp.rename = realRename);
  t.teardown(restore);
  fsp.rename = async (from, to) => {
    if (String(to) === path.join(s.out, 'snap')) throw Object.assign(new Error('EIO: i/o error, rename'), { code: 'EIO' });
    return realRename(from, to);
  };
  await failsThenResumes(t, s, restore);
});

t.test('an injected fsync error on the file', async (t) => {
  const s = await setup(t);
  await failsThenResumes(t, s, await failSync(t, s.out, false));
});

t.test('an injected fsync error on the directory, after the rename', async (t) => {
  const s = await setup(t);
  const restore = await failSync(t, s.out, true);
  await failsThenResumes(t, s, restore);
});
