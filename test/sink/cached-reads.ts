/**
 * Small positioned reads in place while they are fast, through the thread pool once one was
 * slow; and a walk of a snapshot's block headers read that way finds the same frames.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { CachedReads } from '../../lib/sink/cached-reads.js';
import { walkSnapshotFrames } from '../../lib/snapshot/block-index.js';
import { writeSnapshot } from '../../lib/snapshot/write-snapshot.js';

t.test('reads in place, then through the pool after a slow one', async (t) => {
  const dir = t.testdir({ f: Buffer.from(Array.from({ length: 5000 }, (_, i) => i & 0xff)) });
  const handle = await fs.promises.open(path.join(dir, 'f'), 'r');
  t.teardown(() => handle.close());
  const reads = new CachedReads(handle);
  const buf = Buffer.alloc(100);
  const n = reads.read(buf, 4000);
  t.equal(n, 100, 'in place: the count itself, no promise');
  t.same([...buf.subarray(0, 3)], [4000 & 0xff, 4001 & 0xff, 4002 & 0xff]);
  t.equal(reads.read(Buffer.alloc(100), 4950), 50, 'short at the end of the file');

  // Every read counts as slow: the first one is still served in place, the next go to the pool.
  const slow = new CachedReads(handle, 0n);
  t.equal(slow.read(Buffer.alloc(10), 0), 10);
  t.equal(slow.inPlace, false, 'a slow read turns the reader asynchronous');
  const later = slow.read(buf, 10);
  t.type(later, Promise);
  t.equal(await later, 100);
  t.equal(buf[0], 10);
});

t.test('a walk read in place finds what the walk through the pool finds', async (t) => {
  const dir = t.testdir({});
  const file = path.join(dir, 'snap');
  await writeSnapshot(
    (function* () {
      for (let i = 0; i < 20_000; i++) yield { key: `k${i}`, value: `value ${i} `.repeat(8) };
    })(),
    file,
    { blockSize: 16 * 1024 },
  );
  const handle = await fs.promises.open(file, 'r');
  t.teardown(() => handle.close());
  const size = (await handle.stat()).size;
  const walk = async (sync: boolean | 'cached'): Promise<string[]> => {
    const out: string[] = [];
    for await (const f of walkSnapshotFrames(handle, size, { sync })) out.push(`${f.kind}@${f.offset}+${f.size}:${f.bytes.toString('hex')}`);
    return out;
  };
  const pooled = await walk(false);
  t.ok(pooled.length > 40, `${pooled.length} frames`);
  t.same(await walk('cached'), pooled);
});
