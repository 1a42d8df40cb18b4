/**
 * The free list keeps, per size, room for a block and the frame it compresses to: data that does
 * not compress makes frames the size of their blocks, and every one of those in flight comes
 * back for reuse rather than being allocated afresh.
 */
import t from 'tap';
import os from 'node:os';
import { allocBlock, recycleBlock } from '../../lib/format/block-buffers.js';

t.test('twice the blocks in flight, of one size, all come back', async (t) => {
  const cores = Math.max(1, Math.min(os.availableParallelism?.() ?? os.cpus().length, 8));
  const inFlight = Math.max(8, cores * 3 + 2);
  // A size no other code in this process uses, and a total under the list's byte limit.
  const size = 64 * 1024 + 4096;
  for (const shared of [false, true]) {
    const buffers = Array.from({ length: 2 * inFlight }, () => allocBlock(size, shared).buffer);
    for (const b of buffers) recycleBlock(b);
    const again = Array.from({ length: 2 * inFlight }, () => allocBlock(size, shared).buffer);
    t.equal(again.filter((b) => buffers.includes(b)).length, 2 * inFlight, shared ? 'shared memory' : 'ArrayBuffers');
  }
});
