// Start-up clean-up: partials that cannot be resumed are removed, resumable ones are kept and
// reported, and other files are left alone.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { cleanPartials, sampleEntries, writeSnapshot } from '../../lib/index.js';

t.test('removes what cannot be resumed, keeps what can', async (t) => {
  const dir = t.testdir();
  const full = path.join(dir, 'full.snap');
  await writeSnapshot(sampleEntries({ count: 50 }), full, { blockSize: 4096 });
  const bytes = fs.readFileSync(full);
  fs.writeFileSync(path.join(dir, 'resumable.snap.partial'), bytes.subarray(0, bytes.length - 100));
  fs.writeFileSync(path.join(dir, 'torn-header.snap.partial'), bytes.subarray(0, 10));
  fs.writeFileSync(path.join(dir, 'garbage.snap.partial'), Buffer.from('not a snapshot at all'));
  fs.writeFileSync(path.join(dir, 'empty.snap.partial'), Buffer.alloc(0));
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'keep me');

  const report = await cleanPartials(dir);
  t.same(report.kept.map((a) => path.basename(a.path)), ['resumable.snap.partial']);
  t.ok(report.kept[0]!.blocks > 0, 'reports how far it got');
  t.same(report.removed.map((r) => path.basename(r.path)).sort(), ['empty.snap.partial', 'garbage.snap.partial', 'torn-header.snap.partial']);
  for (const r of report.removed) t.type(r.reason, 'string');
  t.same(fs.readdirSync(dir).sort(), ['full.snap', 'notes.txt', 'resumable.snap.partial']);
  t.ok(fs.readFileSync(full).equals(bytes), 'finished snapshots untouched');
});

t.test('a missing directory is a typed I/O error', async (t) => {
  await t.rejects(cleanPartials(path.join(t.testdir(), 'nope')), { code: 'SNAP_ERR_IO' });
});
