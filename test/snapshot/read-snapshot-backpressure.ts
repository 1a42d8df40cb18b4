/**
 * Backpressure through readSnapshot: a consumer that reads slowly, or stops, keeps the file
 * read only a few MiB ahead of it, not the whole snapshot; once it reads on, every entry
 * arrives. (The file reads are counted at the file reader readSnapshot opens.)
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readSnapshot, writeSnapshot, type DecodedEntry, type Entry } from '../../lib/index.js';
import { RecycledFileReader } from '../../lib/snapshot/recycled-file-reader.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x91342ad9);

const MiB = 1024 * 1024;
const ENTRIES = 24 * 1024; // 24 Ki entries of ~1 KiB of noise: ~24 MiB of file
const noise = randomBytes(MiB);

function* source(): Generator<Entry> {
  for (let i = 0; i < ENTRIES; i++) {
    const at = (i * 997) % (noise.length - 1000);
    yield { key: `key-${String(i).padStart(6, '0')}`, value: noise.subarray(at, at + 1000) };
  }
}

/** Counts the bytes readSnapshot's file reader pushes while `fn` runs. */
async function countingReads<T>(fn: (bytesRead: () => number) => Promise<T>): Promise<T> {
  const original = RecycledFileReader.prototype.push;
  let bytes = 0;
  RecycledFileReader.prototype.push = function (this: RecycledFileReader, chunk: unknown, encoding?: BufferEncoding) {
    if (chunk) bytes += (chunk as Buffer).length;
    return original.call(this, chunk, encoding);
  };
  try {
    return await fn(() => bytes);
  } finally {
    RecycledFileReader.prototype.push = original;
  }
}

const dir = t.testdir();
const file = path.join(dir, 'big.snap');

t.before(async () => {
  const summary = await writeSnapshot(source(), file, { codec: 'lz4', blockSize: 256 * 1024 });
  t.equal(summary.entries, ENTRIES);
});

t.test('a consumer that stops reading stops the file reads', async (t) => {
  const size = fs.statSync(file).size;
  t.ok(size > 20 * MiB, `snapshot is ${(size / MiB).toFixed(1)} MiB`);
  await countingReads(async (bytesRead) => {
    const stream = readSnapshot(file);
    const it = stream[Symbol.asyncIterator]();
    for (let i = 0; i < 10; i++) {
      const step = await it.next();
      t.equal((step.value as DecodedEntry).key, `key-${String(i).padStart(6, '0')}`);
    }
    // The consumer pauses: everything upstream must come to rest with the file mostly unread.
    await sleep(500);
    const paused = bytesRead();
    t.ok(paused < 6 * MiB, `read ${(paused / MiB).toFixed(1)} MiB of ${(size / MiB).toFixed(1)} while paused`);
    await sleep(300);
    t.equal(bytesRead(), paused, 'no more reads while the consumer waits');
    // Reading on gets every entry, in order.
    let n = 10;
    let inOrder = true;
    for (let step = await it.next(); !step.done; step = await it.next()) {
      if ((step.value as DecodedEntry).key !== `key-${String(n).padStart(6, '0')}`) inOrder = false;
      n++;
    }
    t.equal(n, ENTRIES, 'every entry after the pause');
    t.ok(inOrder, 'in order');
    t.equal(bytesRead(), size, 'the whole file read in the end');
  });
});

t.test('a slow consumer (batch mode) stays a few blocks behind the reads', async (t) => {
  const size = fs.statSync(file).size;
  await countingReads(async (bytesRead) => {
    let entries = 0;
    let maxAhead = 0;
    const perEntry = size / ENTRIES;
    for await (const batch of readSnapshot(file, { batch: true })) {
      entries += (batch as DecodedEntry[]).length;
      maxAhead = Math.max(maxAhead, bytesRead() - entries * perEntry);
      if (entries < ENTRIES / 3) await sleep(4);
    }
    t.equal(entries, ENTRIES);
    t.ok(maxAhead < 6 * MiB, `file reads at most ${(maxAhead / MiB).toFixed(1)} MiB ahead of the consumer`);
  });
});
