/**
 * directorySource is a point-in-time view of append-only files: a segmented log takes appends on
 * every turn of the event loop while store.create reads it, rolls to new segments, and deletes
 * the oldest (retention) — including segments the snapshot has not read yet. The snapshot is
 * labelled with the log's high-water mark of the moment directorySource was called; restoring it
 * gives exactly the files as they were then (no later append, every deleted segment whole), its
 * header's file list and sizes describe exactly those bytes, and its last record is the
 * high-water mark. A file rewritten in place or cut short under the view fails the snapshot with
 * SNAP_ERR_SOURCE_CHANGED and leaves no partial; a tree over maxOpenFiles is refused up front.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { directoryApplier, directorySource, DirectorySnapshotStore } from '../../lib/index.js';
import { mulberry32 } from '../fixtures/random.js';

const SEED = 4242;
const RECORD = 200; // bytes a record
const PER_SEGMENT = 3_000; // records a segment (600 kB)
const KEEP = 6; // segments kept by the log's retention

function readFiles(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const name of fs.readdirSync(dir).sort()) out.set(name, fs.readFileSync(path.join(dir, name)));
  return out;
}

t.test('a segment directory under appends and segment deletion', async (t) => {
  t.comment(`seed ${SEED}`);
  const rand = mulberry32(SEED);
  const work = t.testdir();
  const log = path.join(work, 'log');
  fs.mkdirSync(log);
  let hwm = 0; // records appended (each write completed: sync appends)
  let segment = -1;
  let fd = -1;
  const deleted: string[] = [];
  const segName = (n: number): string => `${String(n).padStart(8, '0')}.log`;
  const append = (): void => {
    if (hwm % PER_SEGMENT === 0) {
      if (fd >= 0) fs.closeSync(fd);
      segment++;
      fd = fs.openSync(path.join(log, segName(segment)), 'a');
      if (segment >= KEEP) {
        const old = segName(segment - KEEP);
        fs.rmSync(path.join(log, old));
        deleted.push(old);
      }
    }
    hwm++;
    const noise = Math.floor(rand() * 1e9).toString(36);
    fs.writeSync(fd, `record ${hwm} ${noise} `.padEnd(RECORD - 1, '.') + '\n');
  };
  for (let i = 0; i < 4 * PER_SEGMENT + 1234; i++) append();

  const store = await DirectorySnapshotStore.at(path.join(work, 'store'), { write: { codec: 'lz4', blockSize: 64 * 1024 } });
  t.teardown(() => store.close());
  let done = false;
  const storm = (): void => {
    if (done) return;
    for (let i = 0; i < 500; i++) append();
    setImmediate(storm);
  };
  // The reference, the high-water mark and the view, in one tick.
  const reference = readFiles(log);
  const labelled = hwm;
  const creating = store.create(directorySource(log, { hwm: labelled }));
  setImmediate(storm);
  const snap = await creating.finally(() => (done = true));
  fs.closeSync(fd);

  const gone = [...reference.keys()].filter((name) => deleted.includes(name));
  t.ok(gone.length >= 1, `segments of the view deleted while it was read: ${gone.join(', ')}`);
  t.ok(hwm > labelled, `${hwm - labelled} records appended while it was read`);
  t.equal(snap.meta.hwm, labelled, 'labelled with the high-water mark of the call');
  t.same(snap.meta.files, Object.fromEntries([...reference].map(([name, bytes]) => [name, bytes.length])), 'the header lists the files and sizes of the view');
  t.equal(snap.meta.bytes, [...reference.values()].reduce((n, b) => n + b.length, 0));

  const target = path.join(work, 'restored');
  await store.restore(directoryApplier(target));
  const restored = readFiles(target);
  t.same([...restored.keys()], [...reference.keys()], 'the same files');
  let differing = 0;
  for (const [name, bytes] of reference) if (!restored.get(name)?.equals(bytes)) differing++;
  t.equal(differing, 0, 'every file byte for byte as it was at the call');
  const last = [...restored.values()].at(-1)!.toString().trimEnd().split('\n').at(-1)!;
  t.match(last, new RegExp(`^record ${labelled} `), 'its last record is the high-water mark');
});

t.test('a file rewritten in place or cut short under the view: SNAP_ERR_SOURCE_CHANGED, no partial', async (t) => {
  const work = t.testdir();
  const log = path.join(work, 'log');
  fs.mkdirSync(log);
  fs.writeFileSync(path.join(log, 'a.log'), 'a'.repeat(100_000));
  fs.writeFileSync(path.join(log, 'b.log'), 'b'.repeat(100_000));
  const store = await DirectorySnapshotStore.at(path.join(work, 'store'), { write: { codec: 'lz4', blockSize: 16 * 1024 } });
  t.teardown(() => store.close());

  const rewritten = directorySource(log);
  fs.writeFileSync(path.join(log, 'b.log'), 'B'.repeat(100_000));
  // Linux stamps mtimes with a coarse clock: make the rewrite's mtime differ, as a later one would.
  const later = new Date(fs.statSync(path.join(log, 'b.log')).mtimeMs + 5_000);
  fs.utimesSync(path.join(log, 'b.log'), later, later);
  await t.rejects(store.create(rewritten, {}, { id: 'rewritten' }), { code: 'SNAP_ERR_SOURCE_CHANGED', message: /b\.log was rewritten in place/ });

  const cut = directorySource(log);
  fs.truncateSync(path.join(log, 'a.log'), 50_000);
  await t.rejects(store.create(cut, {}, { id: 'cut' }), { code: 'SNAP_ERR_SOURCE_CHANGED', message: /a\.log/ });
  t.same(fs.readdirSync(path.join(work, 'store')).filter((n) => n.endsWith('.partial')), [], 'no partial left');
  t.same(store.pending, []);
  t.same(await store.list(), []);
});

t.test('more files than maxOpenFiles: refused up front, nothing left open', async (t) => {
  const log = t.testdir({ 'a.log': 'a', 'b.log': 'b', 'c.log': 'c' });
  const before = fs.readdirSync('/proc/self/fd').length;
  t.throws(() => directorySource(log, {}, { maxOpenFiles: 2 }), { code: 'SNAP_ERR_INVALID_ARGUMENT', message: /more than 2 files/ });
  t.equal(fs.readdirSync('/proc/self/fd').length, before, 'no descriptor leaked');
  const source = directorySource(log, {}, { maxOpenFiles: 3 });
  t.equal(fs.readdirSync('/proc/self/fd').length, before + 3, 'one descriptor a file while the view is open');
  await source.close!();
  t.equal(fs.readdirSync('/proc/self/fd').length, before, 'all closed by close()');
});
