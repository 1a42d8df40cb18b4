/**
 * A byte-mode Compressor asks its zstd workers for no CRC32 of its frames: what it emits is its
 * consumer's, and a CrcFooter after it hashes what it is given. Block mode (whose blocks carry
 * their frame's CRC) still asks for it, and a CrcFooter after a byte-mode Compressor still
 * writes the CRC of the bytes it passed.
 */
import t from 'tap';
import { sharedPool } from '../../lib/codec/worker-pool.js';
import type { WorkerRequest } from '../../lib/codec/worker-messages.js';
import { Compressor, CRC_TRAILER_SIZE, CrcFooter, crc32, type CompressedBlock } from '../../lib/index.js';
import { halfRandomRecords } from '../fixtures/incompressible.js';
import { poolJobs } from '../fixtures/pool-jobs.js';
import { cut, pipeBytes, pipeThrough } from '../fixtures/pipe-through.js';

const blockSize = 128 * 1024;
const data = halfRandomRecords(5 * blockSize + 99, 41);

/** The pool's jobs while `fn` runs, once its workers are ready: every block goes to them (none compressed here while they start). */
async function jobsOf<T>(fn: () => Promise<T>): Promise<{ result: T; jobs: Omit<WorkerRequest, 'id'>[] }> {
  await sharedPool().whenReady();
  return poolJobs(fn);
}

t.before(async () => {
  // Start the workers with a first stream.
  await pipeBytes([data], new Compressor({ blockSize }));
});

t.test('byte mode: no CRC asked of the workers; the footer hashes what it passes', async (t) => {
  const footer = new CrcFooter();
  const { result, jobs } = await jobsOf(() => pipeBytes(cut(data, 10_000), new Compressor({ blockSize }), footer));
  t.ok(jobs.length >= 5, 'the blocks went to the workers');
  t.ok(jobs.every((j) => j.op === 'compress' && j.frameCrc === false), 'none asked for a CRC');
  t.equal(footer.crc, crc32(result.subarray(0, result.length - CRC_TRAILER_SIZE)), "the trailer's CRC is the frames'");
});

t.test('block mode: the CRC of every frame, from the workers', async (t) => {
  const blocks = [0, 1, 2].map((i) => ({ data: data.subarray(i * blockSize, (i + 1) * blockSize), entries: 1 }));
  const { result, jobs } = await jobsOf(() => pipeThrough<CompressedBlock>(blocks, new Compressor({ blocks: true, blockSize })));
  t.equal(jobs.length, 3);
  t.ok(jobs.every((j) => j.op === 'compress' && j.frameCrc !== false), 'each asked for its CRC');
  for (const b of result) t.equal(b.crc, crc32(b.frame));
});
