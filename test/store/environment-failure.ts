/**
 * An environment failure is never corruption: when the codec cannot run (here every zstd job of
 * the worker pool fails, as when worker threads cannot start), or the applier fails for its
 * environment (a full target disk, an I/O error), `verifyAll` reports the snapshots as failed and `restore`
 * throws the typed error, and not one snapshot is moved aside. Once the environment is back,
 * every snapshot verifies and restores. Damage in a snapshot's own bytes still falls back.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { IoError, mapApplier, mapSource, NoSpaceError, DirectorySnapshotStore, type SnapshotApplier, type SnapshotMap } from '../../lib/index.js';
import { sharedPool } from '../../lib/codec/worker-pool.js';

type Test = typeof t;

function state(round: number): SnapshotMap {
  const m: SnapshotMap = new Map();
  for (let i = 0; i < 2000; i++) m.set(`key:${i}`, `round ${round} value ${i} ${'x'.repeat(i % 40)}`);
  return m;
}

async function threeSnapshots(t: Test): Promise<{ store: DirectorySnapshotStore; ids: string[]; files: () => string[] }> {
  const dir = t.testdir();
  const store = await DirectorySnapshotStore.at(dir, { write: { codec: 'zstd', blockSize: 64 * 1024 } });
  t.teardown(() => store.close());
  const ids: string[] = [];
  for (let round = 1; round <= 3; round++) ids.unshift((await store.create(mapSource(state(round)), { index: round })).id);
  return { store, ids, files: () => fs.readdirSync(dir).sort() };
}

/**
 * Every job of the worker pool fails, as it does when worker threads cannot start. Injected once
 * the first thread the creates started is ready: while it starts, frames are decoded on the
 * calling thread (block-codec.ts; a read of small entries uses only the first thread), which
 * this injection does not reach.
 */
async function failingCodec(t: Test): Promise<() => void> {
  const pool = sharedPool();
  await pool.whenReady(1);
  const run = pool.run;
  pool.run = () => Promise.reject(new Error('Initiated Worker with invalid execArgv flags (injected)'));
  const restore = (): void => void (pool.run = run);
  t.teardown(restore);
  return restore;
}

t.test('a codec that cannot run: verifyAll moves nothing, restore throws SNAP_ERR_CODEC', async (t) => {
  const { store, ids, files } = await threeSnapshots(t);
  const before = files();
  const moved: unknown[] = [];
  store.on('corrupt', (e) => moved.push(e));
  const healthy = await failingCodec(t);

  const verified = await store.verifyAll();
  t.same(verified.ok, []);
  t.same(verified.corrupt, [], 'no snapshot taken for corrupt');
  t.same(verified.failed.map((f) => [f.id, (f.error as { code?: string }).code]), ids.map((id) => [id, 'SNAP_ERR_CODEC']));

  const live: SnapshotMap = new Map([['live', 'state']]);
  await t.rejects(store.restore(mapApplier(live)), { code: 'SNAP_ERR_CODEC' });
  t.same([...live], [['live', 'state']], 'the live state is untouched');
  t.same(moved, [], 'no corrupt event');
  t.same(files(), before, 'every file in place, no corrupt/');
  t.same((await store.list()).map((s) => s.id), ids, 'every snapshot still listed');

  healthy();
  t.same((await store.verifyAll()).ok, ids, 'with the codec back, every snapshot verifies');
  const result = await store.restore(mapApplier(live));
  t.equal(result.snapshot.id, ids[0], 'and the newest restores');
  t.equal(live.get('key:1'), state(3).get('key:1'));
});

t.test('an applier failing for its environment never gets a snapshot moved aside', async (t) => {
  const { store, ids, files } = await threeSnapshots(t);
  const before = files();
  for (const error of [new NoSpaceError('writing the target: no space left on device'), new IoError('writing the target: EIO')]) {
    const inner = mapApplier(new Map());
    const applier: SnapshotApplier = {
      ...inner,
      write: async () => {
        throw error;
      },
    };
    await t.rejects(store.restore(applier), { code: error.code }, `${error.code} from the applier is thrown as it is`);
    t.same(files(), before, `${error.code}: nothing moved`);
    t.same((await store.list()).map((s) => s.id), ids);
  }
});

t.test('damage in the bytes still falls back', async (t) => {
  const { store, ids } = await threeSnapshots(t);
  const newest = store.pathOf(ids[0]!);
  const bytes = fs.readFileSync(newest);
  // A byte inside the first data frame (after the header and the first block header).
  bytes[Math.floor(bytes.length / 3)]! ^= 0x55;
  fs.writeFileSync(newest, bytes);
  const live: SnapshotMap = new Map();
  const result = await store.restore(mapApplier(live));
  t.same(result.corrupt, [ids[0]]);
  t.equal(result.snapshot.id, ids[1]);
  t.ok(fs.existsSync(path.join(store.dir, 'corrupt')), 'the damaged one moved aside');
});
