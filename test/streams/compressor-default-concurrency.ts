/**
 * A byte-mode zstd Compressor keeps one block per worker thread waiting in the pool beyond what
 * the workers' queues hold, so that a block held up on one worker does not leave the other
 * without work; block mode (writeSnapshot's larger blocks) keeps only the queues' count, and lz4
 * one block per core. An explicit `concurrency` wins.
 */
import t from 'tap';
import { sharedPool, WORKER_QUEUE_DEPTH } from '../../lib/codec/worker-pool.js';
import { Compressor } from '../../lib/index.js';

const cores = sharedPool().size;

t.test('defaults', async (t) => {
  t.equal(new Compressor().concurrency, cores * WORKER_QUEUE_DEPTH + cores, 'zstd bytes: the queues and one more per worker');
  t.equal(new Compressor({ blocks: true }).concurrency, cores * WORKER_QUEUE_DEPTH, 'zstd blocks: the queues');
  t.equal(new Compressor({ codec: 'lz4' }).concurrency, cores, 'lz4: one per core');
  t.equal(new Compressor({ concurrency: 3 }).concurrency, 3, 'given');
});
