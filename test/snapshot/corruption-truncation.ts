/**
 * A snapshot file of the wrong length is never read as good: cut anywhere (inside the header,
 * a block header, a data frame or the footer, at a frame boundary, one byte short of the end)
 * readSnapshot fails with a SnapstreamError after at most the entries of the blocks wholly
 * before the cut, all equal to the originals, without hanging. Bytes after the footer are
 * SNAP_ERR_FORMAT.
 */
import t from 'tap';
import { rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SnapstreamError, writeSnapshot, type CodecName } from '../../lib/index.js';
import { entriesBefore, judge, makeEntries, mapFile, readAll } from './fixtures/corruption-harness.js';
import { mulberry32 } from '../fixtures/random.js';

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'snapstream-truncate-'));
// On every exit, also one cut short by a failure.
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const entries = makeEntries(3000, 11);
const TIMEOUT = 15_000;

for (const codec of ['zstd', 'lz4', 'none'] as CodecName[]) {
  t.test(`a ${codec} snapshot cut short anywhere fails the read`, async (t) => {
    const file = path.join(tmp, `good-${codec}.snap`);
    await writeSnapshot(entries, file, { codec, blockSize: 384 * 1024, meta: { index: 5, term: 1 } });
    const bytes = await fs.readFile(file);
    const map = mapFile(bytes);
    t.ok(map.blocks.length >= 6, `${map.blocks.length} blocks in ${bytes.length} bytes`);
    t.equal(map.footer.end, bytes.length, 'the map covers the whole file');

    // 0, 1, every length through the header, around and inside every block header and data
    // frame (first bytes, middle, last bytes, frame boundaries), every length through the footer
    // and one byte short of the end; plus lengths sampled across the data frames.
    const rand = mulberry32(codec.length * 77);
    const cuts = new Set<number>([0, 1, bytes.length - 1]);
    for (let n = 0; n <= map.header.end; n++) cuts.add(n);
    for (let n = map.footer.start; n < map.footer.end; n++) cuts.add(n);
    for (const b of map.blocks) {
      for (const r of [b.header, b.data]) {
        for (const n of [r.start, r.start + 1, r.start + 5, r.start + 13, (r.start + r.end) >> 1, r.end - 1]) cuts.add(n);
      }
      for (let i = 0; i < 2; i++) cuts.add(b.data.start + Math.floor(rand() * (b.data.end - b.data.start)));
    }
    const every = map.blocks[1]!.header;
    for (let n = every.start; n <= every.end; n++) cuts.add(n);
    const sorted = [...cuts].filter((n) => n < bytes.length).sort((a, b) => a - b);
    t.ok(sorted.length >= 200, `${sorted.length} lengths`);

    const cut = path.join(tmp, `cut-${codec}.snap`);
    const failures: string[] = [];
    const codes = new Map<string, number>();
    let withEntries = 0;
    for (const length of sorted) {
      await fs.writeFile(cut, bytes.subarray(0, length));
      const r = await readAll(cut, entries, TIMEOUT);
      const problem = judge(r, entriesBefore(map, length));
      if (problem) failures.push(`cut to ${length} bytes: ${problem}`);
      if (r.count > 0) withEntries++;
      const code = (r.error as SnapstreamError | null)?.code ?? 'none';
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    t.same(failures, [], `each of ${sorted.length} cuts fails the read with a typed error, no wrong entry`);
    t.ok(withEntries > 0, `whole blocks before a cut still come out (${withEntries} cuts gave entries)`);
    t.comment(`codes: ${JSON.stringify(Object.fromEntries(codes))}`);
  });

  t.test(`bytes after the footer of a ${codec} snapshot are SNAP_ERR_FORMAT`, async (t) => {
    const file = path.join(tmp, `tail-${codec}.snap`);
    await writeSnapshot(entries.slice(0, 500), file, { codec, blockSize: 64 * 1024 });
    const bytes = await fs.readFile(file);
    const map = mapFile(bytes);
    const footer = bytes.subarray(map.footer.start);
    const tails: Array<[string, Buffer]> = [
      ['one zero byte', Buffer.from([0])],
      ['one byte 0x50', Buffer.from([0x50])],
      ['a skippable frame header', Buffer.from('502a4d1800000000', 'hex')],
      ['a second copy of the footer', footer],
      ['the whole file again', bytes],
    ];
    const longer = path.join(tmp, `longer-${codec}.snap`);
    for (const [name, tail] of tails) {
      await fs.writeFile(longer, Buffer.concat([bytes, tail]));
      const r = await readAll(longer, entries, TIMEOUT);
      t.equal(r.hung, false, `${name}: no hang`);
      t.equal(r.wrong, -1, `${name}: entries that came out are the originals`);
      t.type(r.error, SnapstreamError, `${name}: a SnapstreamError`);
      t.equal((r.error as SnapstreamError | null)?.code, 'SNAP_ERR_FORMAT', `${name}: SNAP_ERR_FORMAT`);
    }
  });
}
