/**
 * `rateLimit` paces the data a delta transfer sends after a time of sending none: the time the
 * receiver spends copying frames it holds saves up no credit beyond a short burst, so the data
 * after it still goes out at the limit (the sender's credit used to grow from the connection's
 * start, and the data after a long stretch of copied frames went at the connection's speed).
 *
 * The sender's connection is a wrapper around a TCP socket that holds back what the receiver
 * says for HOLD_MS from the sender's first COPY: the sender, its window full, sends nothing
 * meanwhile. What it sends once the hold ends is counted (chunk frames only: messages are not
 * paced) and timed until DONE. The bound is a lower one (no faster than the limit, less one
 * burst), so load on the machine cannot fail a correct sender.
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import { Duplex } from 'node:stream';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { CHUNK_HEADER_SIZE, CHUNK_MAGIC } from '../../lib/format/chunk-frame.js';
import { MESSAGE_MAGIC, MessageType } from '../../lib/transfer/wire.js';
import { deltaDir } from './fixtures/delta-snapshots.js';

const HOLD_MS = 1000;
const RATE = 100_000; // bytes per second
/** The credit a sender may save up (20 ms at the limit), and a millisecond per wait carried on. */
const SLACK_BYTES = RATE * 0.025;

interface Watch {
  /** When the hold ended (performance.now()), once it has. */
  releasedAt: number | null;
  /** Chunk data bytes the sender wrote after the hold ended. */
  dataAfter: number;
}

/** A socket to `port` whose incoming bytes are held for HOLD_MS from the first COPY written. */
function heldConnection(port: number, watch: Watch): Duplex {
  const socket = net.connect(port, '127.0.0.1');
  let held: Buffer[] | null = null; // incoming bytes while holding
  let holding = false;
  const outgoing = (b: Buffer): void => {
    if (b.length >= 5 && b.readUInt32LE(0) === MESSAGE_MAGIC && b[4] === MessageType.COPY && !holding && watch.releasedAt === null) {
      holding = true;
      held = [];
      setTimeout(() => {
        watch.releasedAt = performance.now();
        for (const h of held!.splice(0)) wrapper.push(h);
        held = null;
      }, HOLD_MS);
    }
    if (watch.releasedAt !== null && b.length >= CHUNK_HEADER_SIZE && b.readUInt32LE(0) === CHUNK_MAGIC) watch.dataAfter += b.readUInt32LE(20);
  };
  const wrapper = new Duplex({
    write(chunk: Buffer, _encoding, callback) {
      outgoing(chunk);
      socket.write(chunk, callback);
    },
    read() {
      socket.resume();
    },
    destroy(err, callback) {
      socket.destroy();
      callback(err);
    },
  });
  socket.on('data', (d: Buffer) => {
    if (held) held.push(d);
    else if (!wrapper.push(d)) socket.pause();
  });
  socket.on('end', () => wrapper.push(null));
  socket.on('error', (err) => wrapper.destroy(err));
  socket.on('close', () => wrapper.destroy());
  return wrapper;
}

t.test('data after a stretch of copied frames is paced at the rate limit', async (t) => {
  const { today, out } = await deltaDir(t);
  const server = createSnapshotServer({ dir: out });
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());

  const watch: Watch = { releasedAt: null, dataAfter: 0 };
  const result = await sendSnapshot(today, () => heldConnection(port, watch), { id: 'snap', rateLimit: RATE });
  const after = (performance.now() - watch.releasedAt!) / 1000;
  t.ok(fs.readFileSync(`${out}/snap`).equals(fs.readFileSync(today)), 'installed, byte-identical');
  t.equal(result.delta, true, 'a delta');
  t.equal(result.connections, 1);
  t.ok(watch.dataAfter > 2 * SLACK_BYTES, `${watch.dataAfter} data bytes sent after the hold`);
  // At most the burst's credit goes out at once; the rest at the limit.
  const least = (watch.dataAfter - SLACK_BYTES) / RATE;
  t.ok(after >= least, `${after.toFixed(3)} s from the end of the hold to DONE for ${watch.dataAfter} data bytes: no faster than the limit (${least.toFixed(3)} s)`);
});
