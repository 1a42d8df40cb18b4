/**
 * A block-mode Compressor (writeSnapshot's) compresses the blocks after the first on the calling
 * thread while the zstd worker threads start, rather than wait for them: the frames, their CRCs
 * and digests are those the workers give for the same blocks. Runs in a process of its own,
 * before any worker thread was started (byte mode: compressor-while-workers-start.ts).
 */
import t from 'tap';
import { sharedPool } from '../../lib/codec/worker-pool.js';
import type { WorkerRequest } from '../../lib/codec/worker-messages.js';
import { crc32 } from '../../lib/format/crc32.js';
import { frameDigest } from '../../lib/format/frame-digest.js';
import { Compressor, type CompressedBlock } from '../../lib/index.js';
import { halfRandomRecords } from '../fixtures/incompressible.js';
import { poolJobs } from '../fixtures/pool-jobs.js';
import { pipeThrough } from '../fixtures/pipe-through.js';
import { randomBytesSeeded } from '../fixtures/random.js';

const KiB = 1024;
const blockSize = 256 * KiB;

async function compressBlocks(): Promise<{ out: CompressedBlock[]; jobs: Omit<WorkerRequest, 'id'>[] }> {
  // Blocks of several sizes, one random (stored by the probe wherever it is made).
  const blocks = [
    halfRandomRecords(blockSize, 31),
    halfRandomRecords(blockSize - 1000, 32),
    randomBytesSeeded(blockSize, 33),
    halfRandomRecords(70_000, 34),
  ].map((data, i) => ({ data, entries: i + 1, cursor: `c${i}` }));
  const { result: out, jobs } = await poolJobs(() => pipeThrough<CompressedBlock>(blocks, new Compressor({ codec: 'zstd', blocks: true, blockSize })));
  return { out, jobs };
}

t.test('blocks after the first compressed here while the workers start', async (t) => {
  t.equal(sharedPool().threads, 0, 'no worker thread has started in this process');
  const early = await compressBlocks();
  t.equal(early.jobs.length, 1, 'one job for the workers: the first block');
  await sharedPool().whenReady();
  const later = await compressBlocks();
  t.equal(later.jobs.length, 4, 'every block to a worker once they are ready');
  for (const [i, b] of early.out.entries()) {
    const w = later.out[i]!;
    t.ok(b.frame.equals(w.frame), `block ${i}: the frame a worker makes`);
    t.equal(b.crc, crc32(b.frame), `block ${i}: its CRC`);
    t.equal(b.crc, w.crc);
    t.ok(b.digest?.equals(frameDigest(b.frame)), `block ${i}: its digest`);
    t.same([b.entries, b.cursor, b.rawLength], [w.entries, w.cursor, w.rawLength]);
  }
});
