/**
 * Content-defined block boundaries (docs/FORMAT.md 3.10), writeSnapshot's default: two snapshots
 * of state that differs by one inserted, deleted or updated entry in the middle share every data
 * frame byte for byte but one or two; with fixed blocks the same insert changes every block after
 * it. Blocks keep to their limits, an interrupted write resumes to the same file, and equal blocks
 * give equal frames whichever worker thread compressed them and however many ran at once.
 */
import t from 'tap';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inspectSnapshot, verifySnapshot, writeSnapshot, type Entry, type WriteSnapshotOptions } from '../../lib/index.js';
import { contentBlockLimits } from '../../lib/format/content-boundaries.js';
import { WorkerPool } from '../../lib/codec/worker-pool.js';
import { walkSnapshotFrames } from '../../lib/snapshot/block-index.js';

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'snapstream-cdc-'));
t.teardown(() => fs.rm(tmp, { recursive: true, force: true }));

const BLOCK = 16 * 1024;

/** Seeded entries: keys in order, values of varied sizes. */
function state(n: number): Entry[] {
  let s = 12345;
  const rand = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  return Array.from({ length: n }, (_, i) => ({
    key: `account:${String(i * 10).padStart(9, '0')}`,
    value: Buffer.alloc(20 + Math.floor(rand() * 300), i & 0xff),
  }));
}

/** The data frames of a snapshot file, in order, as stored. */
async function framesOf(file: string): Promise<{ frames: Buffer[]; rawLengths: number[]; entries: number[]; blockSize: number }> {
  const bytes = await fs.readFile(file);
  const fh = await fs.open(file, 'r');
  const out = { frames: [] as Buffer[], rawLengths: [] as number[], entries: [] as number[], blockSize: 0 };
  try {
    for await (const f of walkSnapshotFrames(fh, bytes.length)) {
      if (f.kind === 'header') out.blockSize = f.header.blockSize;
      if (f.kind === 'block') {
        const at = f.offset + f.size;
        out.frames.push(bytes.subarray(at, at + f.block.frameLength));
        out.rawLengths.push(f.block.rawLength);
        out.entries.push(f.block.entries);
      }
    }
  } finally {
    await fh.close();
  }
  return out;
}

let seq = 0;
async function write(entries: Entry[], options: WriteSnapshotOptions = {}): Promise<Awaited<ReturnType<typeof framesOf>>> {
  const file = path.join(tmp, `s${seq++}.snap`);
  await writeSnapshot(entries, file, { blockSize: BLOCK, ...options });
  return framesOf(file);
}

/** Frames of `b` that are not, byte for byte, frames of `a`. */
function fresh(a: Buffer[], b: Buffer[]): number {
  const known = new Set(a.map((f) => f.toString('base64')));
  return b.filter((f) => !known.has(f.toString('base64'))).length;
}

const base = state(6000);
const middle = 3000;
const changes: Record<string, () => Entry[]> = {
  'one inserted entry': () => [...base.slice(0, middle), { key: 'account:000029995', value: 'new' }, ...base.slice(middle)],
  'one deleted entry': () => [...base.slice(0, middle), ...base.slice(middle + 1)],
  'one updated entry (longer value)': () => base.map((e, i) => (i === middle ? { key: e.key, value: Buffer.alloc(900, 7) } : e)),
  'forty inserted entries': () => [
    ...base.slice(0, middle),
    ...Array.from({ length: 40 }, (_, i) => ({ key: `account:00002999${String(i).padStart(2, '0')}`, value: Buffer.alloc(150, i) })),
    ...base.slice(middle),
  ],
};

for (const codec of ['zstd', 'lz4', 'none'] as const) {
  t.test(`${codec}: after a change in the middle the blocks realign`, async (t) => {
    const before = await write(base, { codec });
    t.ok(before.frames.length > 30, `${before.frames.length} blocks`);
    for (const [what, change] of Object.entries(changes)) {
      const after = await write(change(), { codec });
      const n = fresh(before.frames, after.frames);
      t.ok(n >= 1 && n <= 2, `${what}: ${n} of ${after.frames.length} frames new, the rest shared byte for byte`);
    }
  });
}

t.test('with fixed blocks the same insert changes the blocks after it (what content boundaries avoid)', async (t) => {
  const before = await write(base, { boundaries: 'fixed' });
  const after = await write(changes['forty inserted entries']!(), { boundaries: 'fixed' });
  const n = fresh(before.frames, after.frames);
  t.ok(n > after.frames.length / 3, `${n} of ${after.frames.length} frames new`);
});

t.test('blocks keep to their limits, average about the target, and the header records the maximum', async (t) => {
  const limits = contentBlockLimits(BLOCK);
  t.strictSame(limits, { target: BLOCK, min: BLOCK / 2, max: 2 * BLOCK });
  const s = await write(state(20000));
  t.equal(s.blockSize, limits.max, 'header blockSize is the hard maximum');
  const body = s.rawLengths.slice(0, -1);
  t.ok(body.every((n) => n >= limits.min && n <= limits.max), 'every block but the last within [min, max]');
  const mean = body.reduce((a, b) => a + b, 0) / body.length;
  t.ok(mean > 0.8 * BLOCK && mean < 1.2 * BLOCK, `mean block ${Math.round(mean)} bytes for a target of ${BLOCK}`);
  // A record larger than the maximum still gets a block of its own.
  const big = await write([...state(100), { key: 'big', value: Buffer.alloc(3 * BLOCK, 1) }, ...state(100)]);
  t.ok(big.rawLengths.some((n, i) => n > limits.max && big.entries[i] === 1), 'an oversize record alone in its block');
  t.ok(big.rawLengths.every((n, i) => n <= limits.max || big.entries[i] === 1));
});

t.test('boundaries: fixed fills blocks to blockSize as before', async (t) => {
  const s = await write(state(5000), { boundaries: 'fixed' });
  t.equal(s.blockSize, BLOCK);
  t.ok(s.rawLengths.slice(0, -1).every((n) => n > BLOCK - 400 && n <= BLOCK));
  await t.rejects(writeSnapshot([], path.join(tmp, 'x.snap'), { boundaries: 'rolling' as 'fixed' }), { code: 'SNAP_ERR_INVALID_ARGUMENT' });
});

t.test('an interrupted write resumes to the file an uninterrupted one writes', async (t) => {
  const all = state(8000);
  const source = (stopAt: number, ac?: AbortController) =>
    function* (cursor: unknown): Generator<Entry> {
      for (let i = typeof cursor === 'number' ? cursor : 0; i < all.length; i++) {
        if (i === stopAt) ac?.abort();
        yield all[i]!;
      }
    };
  const whole = path.join(tmp, 'whole.snap');
  await writeSnapshot(source(-1), whole, { blockSize: BLOCK, createdAt: 1 });
  const file = path.join(tmp, 'resumed.snap');
  const ac = new AbortController();
  await t.rejects(writeSnapshot(source(5000, ac), file, { blockSize: BLOCK, createdAt: 1, signal: ac.signal, syncEvery: 0 }));
  const summary = await writeSnapshot(source(-1), file, { blockSize: BLOCK, createdAt: 1 });
  t.ok(summary.resumed && summary.resumed.blocks > 0, `resumed after ${summary.resumed?.blocks} blocks`);
  t.ok((await fs.readFile(file)).equals(await fs.readFile(whole)), 'byte-identical');
  await verifySnapshot(file);
});

t.test('equal blocks give equal frames: not the worker, nor how many compress at once', async (t) => {
  const entries = state(6000);
  const one = await write(entries, { concurrency: 1, createdAt: 1 });
  const many = await write(entries, { concurrency: 8, createdAt: 1 });
  t.strictSame(many.frames.map((f) => f.toString('base64')), one.frames.map((f) => f.toString('base64')), 'concurrency 1 and 8: same frames');
  // The same block compressed by two worker threads at once, many times over: one result.
  const pool = new WorkerPool(2);
  const block = Buffer.concat(entries.slice(0, 300).map((e) => Buffer.concat([Buffer.from(e.key as string), e.value as Buffer])));
  const runs = await Promise.all(
    Array.from({ length: 16 }, () => {
      const copy = new Uint8Array(block).buffer;
      return pool.run({ op: 'compress', level: 1, buffer: copy, offset: 0, length: block.length, digest: true }, true);
    }),
  );
  const first = runs[0]!;
  t.ok(runs.every((r) => r.data.equals(first.data) && r.digest!.equals(first.digest!) && r.crc === first.crc), '16 runs on 2 workers: one frame');
  const info = await inspectSnapshot(path.join(tmp, `s${seq - 1}.snap`));
  t.equal(info.blocks.length, many.frames.length);
});
