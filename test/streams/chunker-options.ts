/**
 * The chunk size is validated, in the constructor and when changed mid-stream: an integer from
 * 4 MiB to 16 MiB inclusive; anything else is SNAP_ERR_INVALID_ARGUMENT and leaves the size as it was.
 */
import t from 'tap';
import { Chunker } from '../../lib/streams/chunker.js';
import { MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from '../../lib/format/chunk-frame.js';

const MiB = 1024 * 1024;

t.equal(MIN_CHUNK_SIZE, 4 * MiB);
t.equal(MAX_CHUNK_SIZE, 16 * MiB);
t.equal(new Chunker().chunkSize, 4 * MiB, 'default 4 MiB');

for (const ok of [4 * MiB, 4 * MiB + 1, 10 * MiB, 16 * MiB]) {
  t.equal(new Chunker({ chunkSize: ok }).chunkSize, ok, `${ok} accepted`);
}

const bad: unknown[] = [0, -1, 4 * MiB - 1, 16 * MiB + 1, 4 * MiB + 0.5, NaN, Infinity, '4194304'];
for (const size of bad) {
  t.throws(() => new Chunker({ chunkSize: size as number }), { code: 'SNAP_ERR_INVALID_ARGUMENT' }, `constructor refuses ${String(size)}`);
  const c = new Chunker({ chunkSize: 5 * MiB });
  t.throws(() => {
    c.chunkSize = size as number;
  }, { code: 'SNAP_ERR_INVALID_ARGUMENT' }, `setter refuses ${String(size)}`);
  t.equal(c.chunkSize, 5 * MiB, 'the size is unchanged');
}
