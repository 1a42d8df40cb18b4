/**
 * A frame the receiver said it holds, whose bytes on its disk no longer match (bit rot after
 * its index was read, so the digest still names it): the receiver catches it by its CRC32 as
 * it reads it, never writes it, and asks the sender for it. The installed file is the sender's.
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { readDataFrames } from '../../lib/transfer/data-frames.js';
import { writeDeltaPair } from './fixtures/delta-snapshots.js';
import { watchMessages } from './fixtures/wire-watch.js';

t.test('a damaged base frame is fetched from the sender, never installed', async (t) => {
  const dir = t.testdir({ out: {} });
  const yesterday = path.join(dir, 'yesterday');
  const today = path.join(dir, 'today');
  await writeDeltaPair(yesterday, today);
  const base = path.join(dir, 'out', 'snap');
  fs.copyFileSync(yesterday, base);

  // The first data frame: the same in both files.
  const handle = await fs.promises.open(base, 'r');
  const [first] = (await readDataFrames(handle, (await handle.stat()).size))!;
  await handle.close();
  const bad = first!.offset + Math.floor(first!.length / 2);

  const server = createSnapshotServer({ dir: path.join(dir, 'out') });
  const failed: { offset: number; base?: string }[] = [];
  server.on('base-frame-failed', (e: { offset: number; base?: string }) => failed.push(e));
  const port = ((await server.listen({ port: 0 })) as net.AddressInfo).port;
  t.teardown(() => server.close());

  const result = await sendSnapshot(
    today,
    () => {
      const socket = net.connect(port, '127.0.0.1');
      // Once the receiver has said which frames it holds, one of them rots on its disk.
      watchMessages(socket, 'HAVE', 1, () => {
        const fd = fs.openSync(base, 'r+');
        const byte = Buffer.alloc(1);
        fs.readSync(fd, byte, 0, 1, bad);
        byte[0]! ^= 0x01;
        fs.writeSync(fd, byte, 0, 1, bad);
        fs.closeSync(fd);
      });
      return socket;
    },
    { id: 'snap' },
  );
  t.ok(fs.readFileSync(base).equals(fs.readFileSync(today)), 'the installed file is byte-identical to the sender file');
  t.equal(result.delta, true);
  t.equal(result.refetchedFrames, 1, 'one frame fetched instead');
  t.equal(failed.length, 1, 'the receiver reports the frame that failed');
  const todayHandle = await fs.promises.open(today, 'r');
  const [todayFirst] = (await readDataFrames(todayHandle, (await todayHandle.stat()).size))!;
  await todayHandle.close();
  t.equal(failed[0]!.offset, todayFirst!.offset, 'naming the frame by its offset in the new file');
  t.equal(failed[0]!.base, base, 'and the base it came from');
  t.ok(result.copiedBytes > 0, 'the other frames still copied');
  t.ok(result.sentBytes + result.copiedBytes >= fs.statSync(today).size, 'every byte sent or copied');
  t.ok(result.sentBytes < fs.statSync(today).size * 0.1, `and ${result.sentBytes} bytes sent`);
});

t.test('a base that vanishes after the receiver offered its frames: they are fetched instead', async (t) => {
  const dir = t.testdir({ out: {} });
  const yesterday = path.join(dir, 'yesterday');
  const today = path.join(dir, 'today');
  await writeDeltaPair(yesterday, today);
  const base = path.join(dir, 'out', 'old');
  fs.copyFileSync(yesterday, base);
  const server = createSnapshotServer({ dir: path.join(dir, 'out') });
  const port = ((await server.listen({ port: 0 })) as net.AddressInfo).port;
  t.teardown(() => server.close());
  const result = await sendSnapshot(
    today,
    () => {
      const socket = net.connect(port, '127.0.0.1');
      watchMessages(socket, 'HAVE', 1, () => fs.rmSync(base));
      return socket;
    },
    { id: 'snap' },
  );
  t.ok(fs.readFileSync(path.join(dir, 'out', 'snap')).equals(fs.readFileSync(today)), 'byte-identical to the sender file');
  t.equal(result.copiedBytes, 0, 'nothing copied');
  t.ok(result.refetchedFrames > 0, `${result.refetchedFrames} frames fetched instead`);
});

t.test('a base frame damaged before the transfer: its header still names it, its CRC catches it', async (t) => {
  const dir = t.testdir({ out: {} });
  const yesterday = path.join(dir, 'yesterday');
  const today = path.join(dir, 'today');
  await writeDeltaPair(yesterday, today);
  const base = path.join(dir, 'out', 'snap');
  fs.copyFileSync(yesterday, base);
  const handle = await fs.promises.open(base, 'r');
  const frames = (await readDataFrames(handle, (await handle.stat()).size))!;
  await handle.close();
  t.ok(frames.every((f) => f.digest.length === 16), 'digests from the block headers');
  const victim = frames[3]!;
  const fd = fs.openSync(base, 'r+');
  fs.writeSync(fd, Buffer.from([0xff, 0x00, 0xff]), 0, 3, victim.offset + 10);
  fs.closeSync(fd);

  const server = createSnapshotServer({ dir: path.join(dir, 'out') });
  const port = ((await server.listen({ port: 0 })) as net.AddressInfo).port;
  t.teardown(() => server.close());
  const result = await sendSnapshot(today, () => net.connect(port, '127.0.0.1'), { id: 'snap' });
  t.ok(fs.readFileSync(base).equals(fs.readFileSync(today)), 'byte-identical to the sender file');
  t.equal(result.refetchedFrames, 1, 'the damaged frame fetched instead');
  t.ok(result.copiedBytes > 0);
});

t.test('files without digests in their block headers: the digests are computed, the delta works', async (t) => {
  const dir = t.testdir({ out: {} });
  const yesterday = path.join(dir, 'yesterday');
  const today = path.join(dir, 'today');
  await writeDeltaPair(yesterday, today, 20_000, 16 * 1024, false);
  fs.copyFileSync(yesterday, path.join(dir, 'out', 'snap'));
  const server = createSnapshotServer({ dir: path.join(dir, 'out') });
  const port = ((await server.listen({ port: 0 })) as net.AddressInfo).port;
  t.teardown(() => server.close());
  const result = await sendSnapshot(today, () => net.connect(port, '127.0.0.1'), { id: 'snap' });
  t.ok(fs.readFileSync(path.join(dir, 'out', 'snap')).equals(fs.readFileSync(today)), 'byte-identical to the sender file');
  t.ok(result.sentBytes < fs.statSync(today).size * 0.1, `${result.sentBytes} bytes sent`);
});
