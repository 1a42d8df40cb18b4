/**
 * While the zstd worker threads start (the first block of a process starts them), the blocks
 * after the first are compressed on the calling thread instead of waiting for them: the first
 * block still goes to a worker (so a stream in a process where no worker can work still fails as
 * the environment), the frames are the bytes a worker makes of the same blocks (compressed, or
 * stored where the probe says so), stock `zstd -d` reads them, and once a worker is ready blocks
 * go to the workers again. Runs in a process of its own, before any worker thread was started
 * (block mode: compressor-blocks-while-workers-start.ts).
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sharedPool } from '../../lib/codec/worker-pool.js';
import { Compressor, CrcFooter, CrcVerifier, Decompressor } from '../../lib/index.js';
import { halfRandomRecords } from '../fixtures/incompressible.js';
import { pipeBytes } from '../fixtures/pipe-through.js';
import { poolJobs } from '../fixtures/pool-jobs.js';
import { randomBytesSeeded } from '../fixtures/random.js';

const KiB = 1024;
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'snapstream-workers-start-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));


const blockSize = 256 * KiB;
// Four compressible blocks, a random one (stored, by the probe, wherever it is made), a short last one.
const data = Buffer.concat([halfRandomRecords(4 * blockSize, 21), randomBytesSeeded(blockSize, 22), halfRandomRecords(10_000, 23)]);

t.test('blocks compressed here while the workers start, the first on a worker', async (t) => {
  t.equal(sharedPool().threads, 0, 'no worker thread has started in this process');
  // Written at once: the threads cannot say they are ready before every block was given.
  const footer = new CrcFooter();
  const { result: early, jobs } = await poolJobs(() => pipeBytes([data], new Compressor({ codec: 'zstd', blockSize }), footer));
  t.equal(jobs.length, 1, 'one job for the workers: the first block');
  t.ok(sharedPool().threads >= Math.min(2, sharedPool().size), 'every thread was started at once');
  const file = path.join(tmp, 'early.zst');
  await fs.writeFile(file, early);
  t.ok(execFileSync('zstd', ['-d', '-c', '-q', file], { maxBuffer: 64 * 1024 * KiB }).equals(data), 'zstd -d reads it');
  t.ok((await pipeBytes([early], new CrcVerifier(), new Decompressor())).equals(data), 'its CRC trailer verifies');

  // The workers are ready now: the same blocks go to them, and they make the same bytes.
  await sharedPool().whenReady();
  const { result: later, jobs: laterJobs } = await poolJobs(() => pipeBytes([data], new Compressor({ codec: 'zstd', blockSize }), new CrcFooter()));
  t.equal(laterJobs.length, 6, 'every block to a worker once they are ready');
  t.ok(later.equals(early), 'the same bytes as made here');
});
