// A partial file torn at any byte, or with a flipped byte in its last block, is cut back to the
// last whole block and resumes to the same file an uninterrupted run writes.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { analyzePartial, inspectSnapshot, sampleEntries, verifySnapshot, writeSnapshot } from '../../lib/index.js';

const NOW = 1_800_000_000_000;
const opts = { createdAt: NOW, blockSize: 4096, meta: { index: 9, term: 2 } };
const source = (cursor: unknown) => sampleEntries({ count: 60, start: (cursor as number | undefined) ?? 0, now: NOW });

async function setup(t: typeof import("tap").default) {
  const dir = t.testdir();
  const complete = path.join(dir, 'complete.snap');
  await writeSnapshot(source, complete, opts);
  const bytes = fs.readFileSync(complete);
  const info = await inspectSnapshot(complete);
  const ends = info.blocks.map((_b, i) => info.blocks[i + 1]?.offset ?? info.footer.offset);
  const headerSize = info.blocks[0]!.offset;
  return { dir, bytes, info, ends, headerSize };
}

/** The longest valid prefix for a file cut at `cut`: header, then whole blocks. */
function expectedDurable(cut: number, ends: number[], headerSize: number): number {
  let best = headerSize;
  for (const e of ends) if (e <= cut) best = e;
  return best;
}

t.test('torn at every byte of the last two blocks and the footer', async (t) => {
  const { dir, bytes, info, ends, headerSize } = await setup(t);
  t.ok(info.blocks.length >= 4, `${info.blocks.length} blocks`);
  const partial = path.join(dir, 'torn.snap.partial');
  const from = info.blocks[info.blocks.length - 2]!.offset;
  let checked = 0;
  for (let cut = from; cut <= bytes.length; cut++) {
    fs.writeFileSync(partial, bytes.subarray(0, cut));
    const a = await analyzePartial(partial);
    if (!a.resumable || a.durableBytes !== expectedDurable(cut, ends, headerSize)) {
      t.fail(`cut at ${cut}: kept ${a.durableBytes}, expected ${expectedDurable(cut, ends, headerSize)}`);
      return;
    }
    checked++;
  }
  t.pass(`${checked} cut points analysed correctly`);
});

t.test('torn inside the header: not resumable', async (t) => {
  const { dir, bytes, headerSize } = await setup(t);
  const partial = path.join(dir, 'h.snap.partial');
  for (const cut of [0, 1, 7, 8, headerSize - 1]) {
    fs.writeFileSync(partial, bytes.subarray(0, cut));
    const a = await analyzePartial(partial);
    t.equal(a.resumable, false, `cut at ${cut}`);
    t.type(a.reason, 'string');
  }
  fs.writeFileSync(partial, bytes.subarray(0, headerSize));
  const a = await analyzePartial(partial);
  t.equal(a.resumable, true, 'header alone is resumable from the start');
  t.equal(a.durableBytes, headerSize);
  t.equal(a.blocks, 0);
});

t.test('resumes to the identical file from sampled cut points', async (t) => {
  const { dir, bytes, info } = await setup(t);
  const target = path.join(dir, 'resumed.snap');
  const step = Math.max(1, Math.floor((bytes.length - info.blocks[0]!.offset) / 40));
  let resumed = 0;
  for (let cut = info.blocks[0]!.offset; cut < bytes.length; cut += step) {
    fs.rmSync(target, { force: true });
    fs.writeFileSync(`${target}.partial`, bytes.subarray(0, cut));
    const summary = await writeSnapshot(source, target, opts);
    t.ok(summary.resumed, `cut ${cut} resumed`);
    if (!fs.readFileSync(target).equals(bytes)) {
      t.fail(`cut at ${cut}: resumed file differs`);
      return;
    }
    resumed++;
  }
  t.ok(resumed >= 30, `${resumed} resumes, all byte-identical`);
});

t.test('a flipped byte anywhere in the last block cuts it off', async (t) => {
  const { dir, bytes, info, ends } = await setup(t);
  const partial = path.join(dir, 'flip.snap.partial');
  const last = info.blocks[info.blocks.length - 1]!;
  const lastEnd = ends[ends.length - 1]!;
  const prevEnd = info.blocks[info.blocks.length - 2] ? ends[ends.length - 2]! : last.offset;
  // Without the footer: the block is the tail of an interrupted write.
  for (let at = last.offset; at < lastEnd; at++) {
    const copy = Buffer.from(bytes.subarray(0, lastEnd));
    copy[at]! ^= 0x40;
    fs.writeFileSync(partial, copy);
    const a = await analyzePartial(partial);
    if (a.durableBytes !== prevEnd) {
      t.fail(`flip at ${at}: kept ${a.durableBytes}, expected ${prevEnd}`);
      return;
    }
  }
  t.pass(`every byte of the last block (${lastEnd - last.offset}) checked`);
  // And resuming after such a flip gives the uninterrupted file.
  const target = path.join(dir, 'flip.snap');
  const copy = Buffer.from(bytes.subarray(0, lastEnd));
  copy[lastEnd - 5]! ^= 0xff;
  fs.writeFileSync(`${target}.partial`, copy);
  const summary = await writeSnapshot(source, target, opts);
  t.equal(summary.resumed?.bytes, prevEnd);
  t.ok(fs.readFileSync(target).equals(bytes), 'resumed file is identical');
  await verifySnapshot(target);
});

t.test('analysis reads block headers, not data frames, before the verified tail', async (t) => {
  const { dir, bytes, info, ends } = await setup(t);
  // Garble every data frame but the last two: an analysis that read them would notice.
  const copy = Buffer.from(bytes.subarray(0, ends[ends.length - 1]));
  for (const [i, b] of info.blocks.entries()) {
    if (i >= info.blocks.length - 2) break;
    const frameStart = ends[i]! - b.frameLength;
    copy.fill(0xee, frameStart, ends[i]);
  }
  const partial = path.join(dir, 'g.snap.partial');
  fs.writeFileSync(partial, copy);
  const a = await analyzePartial(partial, { verifyBytes: 0 });
  t.equal(a.blocks, info.blocks.length, 'every block kept');
  t.equal(a.durableBytes, copy.length);
});

t.test('within the verified tail, a lost block cuts back to the one before it', async (t) => {
  const { dir, bytes, info, ends } = await setup(t);
  // A power cut lost block k's data but block k+1 reached the disk: cut back to block k-1.
  const k = info.blocks.length - 3;
  const copy = Buffer.from(bytes.subarray(0, ends[ends.length - 1]));
  copy.fill(0, ends[k]! - info.blocks[k]!.frameLength, ends[k]);
  const partial = path.join(dir, 'lost.snap.partial');
  fs.writeFileSync(partial, copy);
  const a = await analyzePartial(partial);
  t.equal(a.blocks, k, `kept the ${k} blocks before the lost one`);
  t.equal(a.durableBytes, ends[k - 1]);
});

t.test('a finished but unrenamed partial keeps every block', async (t) => {
  const { dir, bytes, info } = await setup(t);
  const partial = path.join(dir, 'done.snap.partial');
  fs.writeFileSync(partial, bytes);
  const a = await analyzePartial(partial);
  t.equal(a.complete, true);
  t.equal(a.blocks, info.blocks.length);
  t.equal(a.entries, info.entries);
  t.equal(a.cursor, info.entries);
});
