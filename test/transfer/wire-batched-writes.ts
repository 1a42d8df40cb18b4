/**
 * What a WireConnection writes in one turn of the event loop reaches its stream as one write
 * (a delta transfer answers thousands of small COPY and ACK messages: one system call each cost
 * both peers a wake-up per message), in order; and what was written before a destroy() or
 * close() still goes out.
 */
import t from 'tap';
import { Duplex } from 'node:stream';
import { WireConnection } from '../../lib/transfer/wire-connection.js';
import { WireParser } from '../../lib/transfer/wire.js';

/** A duplex that records each write it is handed (a writev counts as one). */
function recorder(): { stream: Duplex; writes: Buffer[][] } {
  const writes: Buffer[][] = [];
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      writes.push([chunk]);
      cb();
    },
    writev(chunks: { chunk: Buffer }[], cb) {
      writes.push(chunks.map((c) => c.chunk));
      cb();
    },
  });
  return { stream, writes };
}

function messages(writes: Buffer[][]): string[] {
  const parser = new WireParser();
  parser.push(Buffer.concat(writes.flat()));
  const out: string[] = [];
  for (let item = parser.next(); item; item = parser.next()) if (item.kind === 'message') out.push(`${item.message.type}:${String(item.message.body.seq)}`);
  return out;
}

t.test('messages of one turn of the event loop go out in one write, in order', async (t) => {
  const { stream, writes } = recorder();
  const conn = new WireConnection(stream);
  for (let seq = 0; seq < 50; seq++) void conn.send('ACK', { seq, offset: seq });
  t.equal(writes.length, 0, 'held until the turn is over');
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(writes.length, 1, 'one write for fifty messages');
  t.strictSame(messages(writes), Array.from({ length: 50 }, (_, i) => `ACK:${i}`));
  void conn.send('ACK', { seq: 50, offset: 50 });
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(writes.length, 2, 'the next turn: a write of its own');
  conn.destroy();
});

t.test('what was written before destroy() or close() still goes out', async (t) => {
  for (const end of ['destroy', 'close'] as const) {
    const { stream, writes } = recorder();
    const conn = new WireConnection(stream);
    void conn.send('CANCEL', { seq: 1, reason: 'aborted' }).catch(() => {});
    conn[end]();
    t.strictSame(messages(writes), ['CANCEL:1'], `${end}: the CANCEL was written`);
  }
});
