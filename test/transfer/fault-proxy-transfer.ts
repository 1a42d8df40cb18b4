/**
 * A 256 MiB snapshot sent through a proxy that drops the connection at random points and flips
 * random bits in both directions (seeded) arrives byte-identical. Every flipped byte inside a
 * chunk's data that reached the server is detected — answered with a NACK for that very chunk
 * and reported as a 'bad-chunk' event — and resent; flips in headers and control messages break
 * the connection, which the sender re-opens. After each drop or NACK at most one window
 * (window × chunkSize bytes) is sent again.
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import crypto from 'node:crypto';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import { MessageType } from '../../lib/transfer/wire.js';
import { startFaultProxy } from './fixtures/fault-proxy.js';

const MiB = 1024 * 1024;
const SIZE = 256 * MiB;
const CHUNK = 4 * MiB;
const WINDOW = 4;

/** Writes `size` random bytes to `file`; returns their SHA-256. */
function makeFile(file: string, size: number): string {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'w');
  const block = Buffer.allocUnsafe(16 * MiB);
  for (let at = 0; at < size; at += block.length) {
    const part = crypto.randomFillSync(block).subarray(0, Math.min(block.length, size - at));
    hash.update(part);
    fs.writeSync(fd, part);
  }
  fs.closeSync(fd);
  return hash.digest('hex');
}

async function sha256(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const c of fs.createReadStream(file, { highWaterMark: 4 * MiB })) hash.update(c as Buffer);
  return hash.digest('hex');
}

t.test('256 MiB through drops and bit flips arrives intact, resending at most a window per fault', async (t) => {
  const dir = t.testdir({ in: {}, out: {} });
  const source = path.join(dir, 'in', 'big.snap');
  const digest = makeFile(source, SIZE);

  const server = createSnapshotServer({ dir: path.join(dir, 'out'), idleTimeoutMs: 5000 });
  const bad: { id: string; seq: number; offset: number; remote?: string }[] = [];
  const transferErrors: unknown[] = [];
  server.on('bad-chunk', (e) => bad.push(e));
  server.on('transfer-error', (_info, err) => transferErrors.push(err));
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());

  const proxy = await startFaultProxy({
    target: { port },
    seed: 7,
    up: {
      drops: { count: 4, every: [30 * MiB, 60 * MiB] },
      flips: { count: 6, every: [15 * MiB, 40 * MiB] },
      headerFlips: { count: 1, every: [40, 50] },
    },
    down: { flips: { count: 2, every: [300, 1500] } },
  });
  t.teardown(() => proxy.close());

  const started = Date.now();
  const result = await sendSnapshot(source, () => net.connect(proxy.port, '127.0.0.1'), {
    id: 'big.snap',
    chunkSize: CHUNK,
    fixedChunkSize: true,
    window: WINDOW,
    retries: 8,
    idleTimeoutMs: 5000,
  });
  t.comment(`sent in ${Date.now() - started} ms over ${result.connections} connections; ${result.nacks} NACKs, ${result.resentBytes} bytes resent`);
  t.comment(`faults: ${JSON.stringify(proxy.faults)}`);

  t.equal(result.bytes, SIZE);
  t.equal(await sha256(path.join(dir, 'out', 'big.snap')), digest, 'the received file is byte-identical');
  t.notOk(fs.existsSync(path.join(dir, 'out', 'big.snap.partial')), 'no partial left');
  t.notOk(
    transferErrors.some((e) => (e as { code?: string }).code === 'SNAP_ERR_CHECKSUM'),
    'no damaged byte ever reached the file (the whole-file CRC never failed)',
  );

  const drops = proxy.faults.filter((f) => f.kind === 'drop');
  const flips = proxy.faults.filter((f) => f.kind === 'flip');
  t.equal(drops.length, 4, 'the proxy dropped 4 connections');
  t.equal(flips.filter((f) => f.direction === 'up' && f.region === 'data').length, 6, '6 flips in chunk data on the way in');
  t.equal(flips.filter((f) => f.direction === 'up' && (f.region === 'chunk-header' || f.region === 'magic')).length, 1, 'and one in a chunk header');
  t.equal(flips.filter((f) => f.direction === 'down').length, 2, '2 flips on the way back');
  // Drops, and flips in headers and control messages, break the connection they hit.
  const broken = new Set(proxy.faults.filter((f) => f.kind === 'drop' || f.region !== 'data').map((f) => f.conn));
  t.ok(broken.size >= drops.length, `${broken.size} connections broken`);
  t.ok(result.connections >= 1 + broken.size, 'each broken connection was replaced');

  // Every flipped data byte the server got to is answered with a NACK for exactly that chunk.
  const dataFlips = flips.filter((f) => f.region === 'data');
  let reached = 0;
  for (const f of dataFlips) {
    const answers = proxy.replies.filter((r) => r.conn === f.conn && (r.type === MessageType.ACK || r.type === MessageType.NACK));
    if (!answers.some((r) => (r.body.seq as number) >= f.seq!)) continue; // the connection died before the server read it
    reached++;
    const answer = answers.find((r) => r.body.seq === f.seq);
    t.equal(answer?.type, MessageType.NACK, `flip in chunk ${f.seq} (offset ${f.offset}) on connection ${f.conn}: NACK`);
    const remote = `127.0.0.1:${proxy.upstreamPorts[f.conn]}`;
    t.ok(bad.some((b) => b.seq === f.seq && b.offset === f.offset && b.remote === remote), `... and a 'bad-chunk' event`);
  }
  t.ok(reached >= 3, `${reached} of ${dataFlips.length} data flips reached the server`);
  // ... and nothing else is ever reported bad.
  for (const b of bad) {
    const conn = proxy.upstreamPorts.findIndex((p) => b.remote === `127.0.0.1:${p}`);
    t.ok(dataFlips.some((f) => f.conn === conn && f.seq === b.seq), `bad chunk ${b.seq} on connection ${conn} was flipped by the proxy`);
  }
  t.ok(result.nacks >= 1 && result.nacks <= bad.length, `the sender went back ${result.nacks} times for ${bad.length} bad chunks`);

  // At most one window resent per drop (or broken connection) and per NACK.
  const windowBytes = WINDOW * CHUNK;
  const bound = (result.connections - 1 + result.nacks) * windowBytes;
  t.ok(result.resentBytes > 0, 'something was resent');
  t.ok(result.resentBytes <= bound, `resent ${result.resentBytes} B <= (${result.connections - 1} reconnects + ${result.nacks} NACKs) x ${windowBytes} B`);
  t.equal(result.sentBytes, SIZE - result.resumedFrom + result.resentBytes, 'sent = size + resent');
});
