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
import { flipByte } from '../fixtures/flip-byte.js';
import { deltaDir } from './fixtures/delta-snapshots.js';
import { framesOf } from './fixtures/frames-of.js';
import { listenLoopback } from './fixtures/listen-loopback.js';
import { onFirstConnection } from './fixtures/wire-watch.js';

t.test('a damaged base frame is fetched from the sender, never installed', async (t) => {
  const { today, out, base } = await deltaDir(t);

  // The first data frame: the same in both files.
  const [first] = await framesOf(base);
  const bad = first!.offset + Math.floor(first!.length / 2);

  const server = createSnapshotServer({ dir: out });
  const failed: { offset: number; base?: string }[] = [];
  server.on('base-frame-failed', (e: { offset: number; base?: string }) => failed.push(e));
  const port = await listenLoopback(t, server);

  // Once the receiver has said which frames it holds, one of them rots on its disk.
  const result = await sendSnapshot(today, onFirstConnection(port, 'HAVE', 1, () => flipByte(base, bad)), { id: 'snap' });
  t.ok(fs.readFileSync(base).equals(fs.readFileSync(today)), 'the installed file is byte-identical to the sender file');
  t.equal(result.delta, true);
  t.equal(result.refetchedFrames, 1, 'one frame fetched instead');
  t.equal(failed.length, 1, 'the receiver reports the frame that failed');
  const [todayFirst] = await framesOf(today);
  t.equal(failed[0]!.offset, todayFirst!.offset, 'naming the frame by its offset in the new file');
  t.equal(failed[0]!.base, base, 'and the base it came from');
  t.ok(result.copiedBytes > 0, 'the other frames still copied');
  t.ok(result.sentBytes + result.copiedBytes >= fs.statSync(today).size, 'every byte sent or copied');
  t.ok(result.sentBytes < fs.statSync(today).size * 0.1, `and ${result.sentBytes} bytes sent`);
});

t.test('a base that vanishes after the receiver offered its frames: they are fetched instead', async (t) => {
  const { today, out, base } = await deltaDir(t, { base: 'old' });
  const port = await listenLoopback(t, createSnapshotServer({ dir: out }));
  const result = await sendSnapshot(today, onFirstConnection(port, 'HAVE', 1, () => fs.rmSync(base)), { id: 'snap' });
  t.ok(fs.readFileSync(path.join(out, 'snap')).equals(fs.readFileSync(today)), 'byte-identical to the sender file');
  t.equal(result.copiedBytes, 0, 'nothing copied');
  t.ok(result.refetchedFrames > 0, `${result.refetchedFrames} frames fetched instead`);
});

t.test('a base frame damaged before the transfer: its header still names it, its CRC catches it', async (t) => {
  const { today, out, base } = await deltaDir(t);
  const frames = await framesOf(base);
  t.ok(frames.every((f) => f.digest.length === 16), 'digests from the block headers');
  const victim = frames[3]!;
  const fd = fs.openSync(base, 'r+');
  fs.writeSync(fd, Buffer.from([0xff, 0x00, 0xff]), 0, 3, victim.offset + 10);
  fs.closeSync(fd);

  const port = await listenLoopback(t, createSnapshotServer({ dir: out }));
  const result = await sendSnapshot(today, () => net.connect(port, '127.0.0.1'), { id: 'snap' });
  t.ok(fs.readFileSync(base).equals(fs.readFileSync(today)), 'byte-identical to the sender file');
  t.equal(result.refetchedFrames, 1, 'the damaged frame fetched instead');
  t.ok(result.copiedBytes > 0);
});

t.test('files without digests in their block headers: the digests are computed, the delta works', async (t) => {
  const { today, out } = await deltaDir(t, { count: 20_000, digests: false });
  const port = await listenLoopback(t, createSnapshotServer({ dir: out }));
  const result = await sendSnapshot(today, () => net.connect(port, '127.0.0.1'), { id: 'snap' });
  t.ok(fs.readFileSync(path.join(out, 'snap')).equals(fs.readFileSync(today)), 'byte-identical to the sender file');
  t.ok(result.sentBytes < fs.statSync(today).size * 0.1, `${result.sentBytes} bytes sent`);
});
