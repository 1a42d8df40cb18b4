/**
 * The free list keeps, per size, room for a block and the frame it compresses to: data that does
 * not compress makes frames the size of their blocks, and every one of those in flight comes
 * back for reuse rather than being allocated afresh.
 */
import t from 'tap';
import os from 'node:os';
import { allocBlock, allocStaging, recycleBlock } from '../../lib/format/block-buffers.js';

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

t.test('frames of varying sizes reuse one free buffer up to twice their size', async (t) => {
  // Sizes no other code in this process uses: a read stages frames of every size, and a free
  // list kept by exact size held one buffer of each, unused, until it was full (32 MiB).
  const base = 3 * 1024 * 1024 + 17 * 64 * 1024;
  for (const shared of [false, true]) {
    const first = allocStaging(base + 1000, shared).buffer;
    recycleBlock(first);
    const smaller = allocStaging(base - 5 * 64 * 1024, shared);
    t.equal(smaller.buffer, first, `${shared ? 'shared memory' : 'ArrayBuffer'}: a smaller frame takes the free buffer`);
    t.equal(smaller.length, base - 5 * 64 * 1024, 'of its own length');
    recycleBlock(smaller.buffer);
    const half = allocStaging(Math.floor(base / 2) - 64 * 1024, shared).buffer;
    t.not(half, first, 'not one more than twice its size');
    recycleBlock(half);
    const again = allocStaging(base + 2000, shared).buffer;
    t.equal(again, first, 'its own size first');
  }
});
