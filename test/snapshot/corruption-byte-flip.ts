/**
 * Corruption is never silent: one changed byte anywhere in a snapshot file (the header, every
 * block header, data frames, the footer) makes readSnapshot fail with a SnapstreamError. It
 * never hands out an entry that differs from the original, never one from the damaged block or
 * after it, never hangs and never crashes the process; and the error says "damaged"
 * (isCorruptionError), not "unsupported".
 */
import t from 'tap';
import { rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SnapstreamError, writeSnapshot, type CodecName } from '../../lib/index.js';
import { entriesBefore, judge, makeEntries, mapFile, readAll, type Region } from './fixtures/corruption-harness.js';
import { mulberry32 } from '../fixtures/random.js';

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'snapstream-flip-'));
// On every exit, also one cut short by a failure.
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const entries = makeEntries(3000, 7);
const TIMEOUT = 15_000;

for (const codec of ['zstd', 'lz4', 'none'] as CodecName[]) {
  t.test(`every single-byte change to a ${codec} snapshot is caught`, async (t) => {
    const file = path.join(tmp, `good-${codec}.snap`);
    await writeSnapshot(entries, file, { codec, blockSize: 384 * 1024, meta: { index: 99, term: 3 } });
    const bytes = await fs.readFile(file);
    const map = mapFile(bytes);
    t.ok(map.blocks.length >= 6, `${map.blocks.length} blocks in ${bytes.length} bytes`);
    t.equal(map.footer.end, bytes.length, 'the map covers the whole file');

    const clean = await readAll(file, entries, TIMEOUT);
    t.equal(clean.error, null, 'the undamaged file reads without error');
    t.equal(clean.count, entries.length, 'all entries');
    t.equal(clean.wrong, -1, 'all equal to the originals');

    // Every byte of the header, of one block header (a middle one) and of the footer; the
    // first bytes of every block header and data frame (magic, sizes, frame descriptor) and
    // their last bytes (checksums); and bytes sampled across every data frame.
    const rand = mulberry32(codec.length * 1000 + 1);
    const offsets = new Set<number>();
    const every = (r: Region): void => {
      for (let o = r.start; o < r.end; o++) offsets.add(o);
    };
    every(map.header);
    every(map.blocks[Math.floor(map.blocks.length / 2)]!.header);
    every(map.footer);
    for (const b of map.blocks) {
      for (const r of [b.header, b.data]) {
        for (let i = 0; i < 5; i++) offsets.add(r.start + i);
        for (let i = 1; i <= 2; i++) offsets.add(r.end - i);
      }
      for (let i = 0; i < 4; i++) offsets.add(b.data.start + Math.floor(rand() * (b.data.end - b.data.start)));
    }
    const sorted = [...offsets].sort((a, b) => a - b);
    t.ok(sorted.length >= 300, `${sorted.length} offsets`);

    const damaged = path.join(tmp, `flip-${codec}.snap`);
    const failures: string[] = [];
    const codes = new Map<string, number>();
    const hits = new Map<string, number>();
    const regions = [map.header, ...map.blocks.flatMap((b) => [b.header, b.data]), map.footer];
    for (const offset of sorted) {
      const copy = Buffer.from(bytes);
      const xor = 1 + Math.floor(rand() * 255);
      copy[offset]! ^= xor;
      await fs.writeFile(damaged, copy);
      const r = await readAll(damaged, entries, TIMEOUT);
      const region = regions.find((g) => offset >= g.start && offset < g.end)!;
      hits.set(region.name, (hits.get(region.name) ?? 0) + 1);
      const problem = judge(r, entriesBefore(map, offset));
      if (problem) failures.push(`byte ${offset} (${region.name}) ^ 0x${xor.toString(16)}: ${problem}`);
      const code = (r.error as SnapstreamError | null)?.code ?? 'none';
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    t.same(failures, [], `each of ${sorted.length} flips fails the read with a typed error, no wrong entry`);
    t.equal(hits.size, regions.length, `every region was hit (${regions.length})`);
    t.comment(`codes: ${JSON.stringify(Object.fromEntries(codes))}`);
  });
}
