/**
 * The receiver's index of the frames it holds is built once and used again by later
 * connections while its base files are unchanged (a reconnect mid-delta does not walk the bases
 * again); any change to them (a file written, replaced or added) builds it afresh. A frame of a
 * cached index whose bytes rotted meanwhile is still caught by its CRC32 and fetched instead.
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { BaseFrames } from '../../lib/transfer/base-frames.js';
import { flipByte } from '../fixtures/flip-byte.js';
import { deltaDir } from './fixtures/delta-snapshots.js';
import { framesOf } from './fixtures/frames-of.js';
import { listenLoopback } from './fixtures/listen-loopback.js';
import { onFirstConnection } from './fixtures/wire-watch.js';

interface Indexed {
  id: string;
  files: string[];
  frames: number;
  cached: boolean;
}

t.test('a reconnect mid-delta uses the index of the first connection', async (t) => {
  const { today, out } = await deltaDir(t, { base: 'base' });
  const server = createSnapshotServer({ dir: out });
  const indexed: Indexed[] = [];
  server.on('bases-indexed', (e: Indexed) => indexed.push(e));
  const port = await listenLoopback(t, server);
  const result = await sendSnapshot(today, onFirstConnection(port, 'ACK', 5, (socket) => socket.destroy()), { id: 'snap', retries: 5 });
  t.ok(fs.readFileSync(path.join(out, 'snap')).equals(fs.readFileSync(today)), 'byte-identical to the sender file');
  t.equal(result.connections, 2);
  t.equal(result.delta, true);
  t.strictSame(
    indexed.map((e) => e.cached),
    [false, true],
    'built for the first connection, used again by the second',
  );
  t.strictSame(indexed[1]!.files, [path.join(out, 'base')]);
  t.equal(indexed[1]!.frames, indexed[0]!.frames);
});

t.test('a change to the bases builds the index afresh', async (t) => {
  const { yesterday, today, out, base } = await deltaDir(t, { base: 'base' });
  // One base whatever is installed beside it: only a change to it makes a new index.
  const server = createSnapshotServer({ dir: out, deltaBases: () => [base] });
  const indexed: Indexed[] = [];
  server.on('bases-indexed', (e: Indexed) => indexed.push(e));
  const port = await listenLoopback(t, server);
  const send = (id: string): Promise<unknown> => sendSnapshot(today, () => net.connect(port, '127.0.0.1'), { id });

  await send('a');
  await send('b');
  t.strictSame(indexed.map((e) => e.cached), [false, true], 'the same base: the same index');

  // Rewritten in place, with the same size and the same modification time: still seen.
  const { mtime, size } = fs.statSync(base);
  fs.copyFileSync(yesterday, base);
  fs.utimesSync(base, mtime, mtime);
  t.equal(fs.statSync(base).size, size);
  await send('c');
  await send('d');
  t.strictSame(indexed.slice(2).map((e) => e.cached), [false, true], 'a base rewritten: built again, once');

  fs.rmSync(base);
  await send('e');
  t.equal(indexed.at(-1)!.cached, false, 'a base removed: built again');
  t.equal(indexed.at(-1)!.frames, 0);
  for (const id of ['a', 'b', 'c', 'd', 'e']) t.ok(fs.readFileSync(path.join(out, id)).equals(fs.readFileSync(today)), `${id} installed`);
});

t.test('a cached index: a base frame rotted since is caught and fetched, never installed', async (t) => {
  const { today, out, base } = await deltaDir(t, { base: 'base' });
  const server = createSnapshotServer({ dir: out, deltaBases: () => [base] });
  const indexed: Indexed[] = [];
  const failed: { offset: number }[] = [];
  server.on('bases-indexed', (e: Indexed) => indexed.push(e));
  server.on('base-frame-failed', (e: { offset: number }) => failed.push(e));
  const port = await listenLoopback(t, server);
  await sendSnapshot(today, () => net.connect(port, '127.0.0.1'), { id: 'first' });

  const [first] = await framesOf(base);
  const at = first!.offset + Math.floor(first!.length / 2);
  // Once the receiver has answered from its cached index, a frame rots on its disk.
  const result = await sendSnapshot(today, onFirstConnection(port, 'HAVE', 1, () => flipByte(base, at)), { id: 'second' });
  t.strictSame(indexed.map((e) => e.cached), [false, true]);
  t.ok(fs.readFileSync(path.join(out, 'second')).equals(fs.readFileSync(today)), 'byte-identical to the sender file');
  t.equal(result.refetchedFrames, 1, 'the damaged frame fetched instead');
  t.equal(failed.length, 1, 'and reported');
});

t.test('stampOf: the same files, the same stamp', async (t) => {
  const { yesterday, today } = await deltaDir(t, { base: 'base' });
  const a = await BaseFrames.stampOf([yesterday, today]);
  t.equal(await BaseFrames.stampOf([today, yesterday]), a, 'whatever the order');
  t.equal(await BaseFrames.stampOf([yesterday, today, path.join(path.dirname(today), 'missing')]), a, 'missing files are no candidates');
  fs.appendFileSync(today, 'x');
  t.not(await BaseFrames.stampOf([yesterday, today]), a, 'a file grew');
});
