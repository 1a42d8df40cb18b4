/**
 * One flipped byte in the newest snapshot — in its header, in a data frame, in a block header,
 * in the footer — and `restore` falls back to the next older one: it reports the damaged one
 * (a 'corrupt' event and `result.corrupt`), moves it aside into `<dir>/corrupt/` (kept, byte for
 * byte, for inspection; gone from the list and from store.json), and the applier's live state is
 * untouched by the failed attempt (it is aborted, never committed). When every snapshot is
 * damaged, restore rejects with SNAP_ERR_NOT_FOUND and the live state is still untouched.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import {
  inspectSnapshot,
  isCorruptionError,
  mapApplier,
  mapSource,
  DirectorySnapshotStore,
  type DecodedEntry,
  type SnapshotApplier,
  type SnapshotMap,
} from '../../lib/index.js';
import { FOOTER_FRAME_SIZE } from '../../lib/format/snapshot-frames.js';

function state(round: number): SnapshotMap {
  const m: SnapshotMap = new Map();
  for (let i = 0; i < 3000; i++) m.set(`key:${i}`, `round ${round} value ${i} ${'x'.repeat(i % 50)}`);
  return m;
}

/** A map applier that records what happens and what the live map held at each abort. */
function watchedApplier(live: SnapshotMap): SnapshotApplier & { log: string[]; liveAtAbort: SnapshotMap[] } {
  const inner = mapApplier(live);
  const log: string[] = [];
  const liveAtAbort: SnapshotMap[] = [];
  return {
    log,
    liveAtAbort,
    begin: async (meta) => (log.push(`begin ${String(meta.index)}`), inner.begin(meta)),
    write: async (entries: DecodedEntry[]) => inner.write(entries),
    commit: async () => (log.push('commit'), inner.commit()),
    abort: async () => {
      log.push('abort');
      liveAtAbort.push(new Map(live));
      return inner.abort();
    },
  };
}

const places = ['header', 'data frame', 'block header', 'footer'] as const;

/** Where to flip a byte: the middle of the payload of one frame of the file. */
async function flipOffset(file: string, place: (typeof places)[number]): Promise<number> {
  const info = await inspectSnapshot(file);
  const header = info.blocks[0]!.offset; // the header frame ends where block 0's header starts
  const block = info.blocks[1]!;
  const nextHeader = info.blocks[2]!.offset;
  const footerStart = info.fileSize - FOOTER_FRAME_SIZE;
  switch (place) {
    case 'header':
      return Math.floor(header / 2) + 4;
    case 'block header':
      return block.offset + 8 + 4; // inside the payload of block 1's header frame
    case 'data frame':
      return nextHeader - Math.floor(block.frameLength / 2);
    case 'footer':
      return footerStart + Math.floor((info.fileSize - footerStart) / 2);
  }
}

for (const place of places) {
  t.test(`a byte flipped in the newest snapshot's ${place}: restore falls back`, async (t) => {
    const dir = t.testdir();
    const store = await DirectorySnapshotStore.at(dir, { write: { blockSize: 16 * 1024 } });
    t.teardown(() => store.close());
    const older = await store.create(mapSource(state(1)), { index: 1, term: 1 });
    const newest = await store.create(mapSource(state(2)), { index: 2, term: 1 });
    t.equal((await store.latest())?.id, newest.id);

    const file = store.pathOf(newest.id);
    t.ok((await inspectSnapshot(file)).blocks.length >= 3, 'several blocks');
    const bytes = fs.readFileSync(file);
    const at = await flipOffset(file, place);
    bytes[at]! ^= 0x40;
    fs.writeFileSync(file, bytes);

    const live: SnapshotMap = new Map([['live', 'state before the restore']]);
    const applier = watchedApplier(live);
    const events: { id: string; path: string; error: Error }[] = [];
    store.on('corrupt', (e) => events.push(e));
    const restoredEvents: unknown[] = [];
    store.on('restored', (r) => restoredEvents.push(r));

    const result = await store.restore(applier);

    t.equal(result.snapshot.id, older.id, 'the older snapshot was restored');
    t.same(result.corrupt, [newest.id], 'the damaged one is reported in the result');
    t.equal(events.length, 1, 'one corrupt event');
    t.equal(events[0]!.id, newest.id);
    t.ok(isCorruptionError(events[0]!.error), `the event carries the damage: ${events[0]!.error.message}`);
    t.equal(path.dirname(events[0]!.path), path.join(dir, 'corrupt'), 'moved into <dir>/corrupt/');
    t.ok(fs.readFileSync(events[0]!.path).equals(bytes), 'kept byte for byte for inspection');
    t.notOk(fs.existsSync(file), 'no longer under its own name');
    t.same(
      (await store.list()).map((s) => s.id),
      [older.id],
      'gone from the list',
    );
    const listed = JSON.parse(fs.readFileSync(path.join(dir, 'store.json'), 'utf8')) as { snapshots: { id: string }[] };
    t.same(
      listed.snapshots.map((s) => s.id),
      [older.id],
      'gone from store.json',
    );
    t.equal(restoredEvents.length, 1);

    // The failed attempt began, was aborted without committing, and left live state alone.
    t.same(applier.log, ['begin 2', 'abort', 'begin 1', 'commit'], 'begin/abort for the damaged one, begin/commit for the older');
    t.equal(applier.liveAtAbort.length, 1, 'one abort');
    for (const seen of applier.liveAtAbort) {
      t.same([...seen], [['live', 'state before the restore']], 'live state untouched when the attempt was aborted');
    }
    t.same(new Map(live), state(1), 'after the fallback, live state is exactly the older snapshot');

    // A store opened again sees the same: the corrupt one stays aside.
    await store.close();
    const again = await DirectorySnapshotStore.at(dir);
    t.same(
      (await again.list()).map((s) => s.id),
      [older.id],
    );
    await again.close();
  });
}

t.test('every snapshot damaged: NOT_FOUND, both moved aside, live state untouched', async (t) => {
  const dir = t.testdir();
  const store = await DirectorySnapshotStore.at(dir, { write: { blockSize: 16 * 1024 } });
  t.teardown(() => store.close());
  const a = await store.create(mapSource(state(1)), { index: 1 });
  const b = await store.create(mapSource(state(2)), { index: 2 });
  for (const id of [a.id, b.id]) {
    const bytes = fs.readFileSync(store.pathOf(id));
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    fs.writeFileSync(store.pathOf(id), bytes);
  }
  const live: SnapshotMap = new Map([['live', 'v']]);
  const applier = watchedApplier(live);
  const corrupt: string[] = [];
  store.on('corrupt', (e: { id: string }) => corrupt.push(e.id));
  await t.rejects(store.restore(applier), { code: 'SNAP_ERR_NOT_FOUND' });
  t.same(corrupt, [b.id, a.id], 'newest first, both reported');
  t.notOk(applier.log.includes('commit'), 'nothing committed');
  t.same([...live], [['live', 'v']], 'live state untouched');
  t.same(await store.list(), []);
  t.equal(fs.readdirSync(path.join(dir, 'corrupt')).length, 2, 'both kept in corrupt/');
});

t.test('with no corrupt/ to be had, a damaged snapshot is renamed in place, and not adopted again', async (t) => {
  const dir = path.join(t.testdir(), 'store');
  const store = await DirectorySnapshotStore.at(dir);
  const a = await store.create(mapSource(state(1)), { index: 1 });
  const b = await store.create(mapSource(state(2)), { index: 2 });
  const bytes = fs.readFileSync(store.pathOf(b.id));
  bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
  fs.writeFileSync(store.pathOf(b.id), bytes);
  // A file where the corrupt/ directory would go.
  fs.writeFileSync(path.join(dir, 'corrupt'), 'in the way');
  const events: { id: string; path: string; movedAside: boolean }[] = [];
  store.on('corrupt', (e) => events.push(e));
  const result = await store.restore(mapApplier(new Map()));
  t.equal(result.snapshot.id, a.id, 'the older one was restored');
  t.equal(events.length, 1);
  t.match(events[0], { id: b.id, movedAside: true });
  t.match(path.basename(events[0]!.path), new RegExp(`^${b.id}\\.snap\\.\\d+\\.corrupt$`), 'renamed beside the others');
  t.ok(fs.existsSync(events[0]!.path), 'kept for inspection');
  t.notOk(fs.existsSync(store.pathOf(b.id)), 'no longer under its name');
  await store.close();
  const again = await DirectorySnapshotStore.at(dir);
  t.teardown(() => again.close());
  t.same((await again.list()).map((s) => s.id), [a.id], 'opening again does not take it back');
});
