/**
 * A Compressor's concurrency may change while it runs (writeSnapshot lowers it while the
 * application keeps the event loop busy): a lower limit holds new input back until fewer blocks
 * are in flight, a higher one lets a waiting write in; the output is the same either way. The
 * OrderedResults underneath is driven by hand, so nothing here depends on timing.
 */
import t from 'tap';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { Compressor, ErrorCodes, type CompressedBlock, type RawBlock } from '../../lib/index.js';
import { OrderedResults } from '../../lib/streams/ordered-results.js';

t.test('setLimit: lower holds callers back, higher lets a waiting one in', async (t) => {
  const delivered: number[] = [];
  const results = new OrderedResults<number>(3, (v) => delivered.push(v), (err) => t.fail(String(err)));
  const pending: ((v: number) => void)[] = [];
  const job = (): Promise<number> => new Promise((resolve) => pending.push(resolve));
  results.add(job());
  results.add(job());
  let room = false;
  results.whenRoom(() => (room = true));
  t.ok(room, 'two in flight, limit 3: room');
  results.setLimit(1);
  t.equal(results.limit, 1);
  room = false;
  results.whenRoom(() => (room = true));
  t.notOk(room, 'two in flight, limit 1: a caller waits');
  pending[0]!(0);
  await new Promise((r) => setImmediate(r));
  t.notOk(room, 'one in flight, limit 1: still waits');
  results.setLimit(2);
  await new Promise((r) => setImmediate(r));
  t.ok(room, 'limit raised to 2: the waiting caller got room');
  pending[1]!(1);
  await new Promise((r) => setImmediate(r));
  t.same(delivered, [0, 1], 'results in order');
});

t.test('a compressor whose concurrency changes while it runs writes the same frames', async (t) => {
  const blocks: RawBlock[] = Array.from({ length: 24 }, (_, i) => ({ data: Buffer.alloc(4096, `block ${i} `), entries: 1 }));
  const run = async (change: boolean): Promise<Buffer[]> => {
    const compressor = new Compressor({ blocks: true, codec: 'zstd' });
    const full = compressor.concurrency;
    t.ok(full >= 1, `default concurrency ${full}`);
    let n = 0;
    const out: Buffer[] = [];
    await pipeline(
      Readable.from(blocks.map((b) => ({ ...b, data: Buffer.from(b.data) }))).on('data', () => {
        // Down to one block at a time, then back up, and down again, while blocks flow.
        if (change) compressor.concurrency = ++n % 8 < 4 ? 1 : full;
      }),
      compressor,
      new Writable({
        objectMode: true,
        write(block: CompressedBlock, _enc, cb) {
          out.push(Buffer.from(block.frame));
          cb();
        },
      }),
    );
    return out;
  };
  const steady = await run(false);
  const changed = await run(true);
  t.equal(changed.length, blocks.length, 'every block');
  t.ok(changed.every((f, i) => f.equals(steady[i]!)), 'the same frames, in order');
  t.throws(() => (new Compressor().concurrency = 0), { code: ErrorCodes.INVALID_ARGUMENT }, 'concurrency must stay a positive integer');
});
