/**
 * A delta receiver keeps the small chunks it takes off the wire (its block headers) and checks
 * the assembled file's metadata frames from them, not from the partial it wrote around the page
 * cache: shown by a file whose metadata frames on disk are zeroed — checked from memory it passes,
 * read from disk it fails. KeptBytes serves reads within and across adjacent ranges, never
 * backwards, within its bounds.
 */
import t from 'tap';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { KEPT_CHUNK, KEPT_TOTAL, KeptBytes } from '../../lib/transfer/kept-bytes.js';
import { checkAssembledSnapshot } from '../../lib/transfer/check-assembled.js';
import { walkSnapshotFrames } from '../../lib/snapshot/block-index.js';
import { crc32 } from '../../lib/format/crc32.js';
import { writeDeltaPair } from './fixtures/delta-snapshots.js';

t.test('reads within a range, across adjacent ones, short where they end, null where nothing is kept', async (t) => {
  const kept = new KeptBytes();
  kept.keep(100, [Buffer.from('abc'), Buffer.from('def')]);
  kept.keep(106, [Buffer.from('ghij')]);
  kept.keep(200, [Buffer.from('xyz')]);
  kept.keep(150, [Buffer.from('back')]); // before the last: not kept
  t.equal(kept.read(101, 3)?.toString(), 'bcd');
  t.equal(kept.read(104, 5)?.toString(), 'efghi', 'across two adjacent ranges');
  t.equal(kept.read(104, 50)?.toString(), 'efghij', 'short where the kept bytes end');
  t.equal(kept.read(200, 2)?.toString(), 'xy');
  t.equal(kept.read(99, 2), null);
  t.equal(kept.read(110, 1), null, 'the gap after a range');
  t.equal(kept.read(150, 4), null, 'nothing kept backwards');
  kept.keep(300, [Buffer.alloc(KEPT_CHUNK + 1)]);
  t.equal(kept.read(300, 1), null, 'a chunk too large is not kept');
  const full = new KeptBytes();
  for (let at = 0; at <= KEPT_TOTAL; at += KEPT_CHUNK) full.keep(at, [Buffer.alloc(KEPT_CHUNK)]);
  t.equal(full.read(KEPT_TOTAL, 1), null, 'no more than KEPT_TOTAL in all');
  t.equal(full.read(KEPT_TOTAL - 1, 1)?.length, 1);
});

t.test('the assembled file is checked from the kept metadata frames, not the disk', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'today');
  await writeDeltaPair(path.join(dir, 'yesterday'), file, 20_000);
  const bytes = fs.readFileSync(file);
  const kept = new KeptBytes();
  const handle = await fsp.open(file, 'r');
  const frames: { offset: number; size: number }[] = [];
  for await (const f of walkSnapshotFrames(handle, bytes.length)) {
    frames.push({ offset: f.offset, size: f.size });
    kept.keep(f.offset, [f.bytes]);
  }
  await handle.close();
  t.ok(frames.length > 10, `${frames.length} metadata frames`);
  // On disk, every metadata frame zeroed: only what was kept is right.
  const damaged = path.join(dir, 'damaged');
  const copy = Buffer.from(bytes);
  for (const f of frames) copy.fill(0, f.offset, f.offset + f.size);
  fs.writeFileSync(damaged, copy);
  const crc = crc32(bytes);
  await checkAssembledSnapshot(damaged, bytes.length, crc, kept);
  t.pass('checked from memory');
  await t.rejects(checkAssembledSnapshot(damaged, bytes.length, crc), 'read from the disk, it fails');
  await checkAssembledSnapshot(file, bytes.length, crc, new KeptBytes());
  t.pass('nothing kept: read from the file');
});
