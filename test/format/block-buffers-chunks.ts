/**
 * A transfer's pieces of memory come in a few capacities whatever their lengths, so pieces of
 * different lengths reuse each other's memory (a delta sends stretches of every length; at
 * 64 KiB steps nearly each one was allocated afresh and left as garbage).
 */
import t from 'tap';
import { allocChunk, CHUNK_PIECE, chunkCapacity, chunkPieces, recycleBlock } from '../../lib/format/block-buffers.js';

t.test('chunk pieces: 64 KiB or 1 MiB capacities, lengths adding up', async (t) => {
  for (const length of [1, 100, 65536, 65537, 1_000_000, CHUNK_PIECE, 3 * CHUNK_PIECE + 5, 8 * CHUNK_PIECE]) {
    const pieces = chunkPieces(length);
    t.equal(pieces.reduce((n, p) => n + p.length, 0), length, `${length}: lengths add up`);
    t.ok(pieces.every((p) => p.buffer.byteLength === (length <= 65536 ? 65536 : CHUNK_PIECE) && p.byteOffset === 0), `${length}: one capacity`);
    t.ok(pieces.slice(0, -1).every((p) => p.length === CHUNK_PIECE), `${length}: whole pieces but the last`);
    for (const p of pieces) recycleBlock(p.buffer);
  }
});

t.test('pieces of different lengths reuse the same memory', async (t) => {
  const a = chunkPieces(1_500_000);
  const memory = new Set(a.map((p) => p.buffer));
  for (const p of a) recycleBlock(p.buffer);
  const b = chunkPieces(1_900_000);
  t.ok(b.every((p) => memory.has(p.buffer)), 'a chunk of another length got the same buffers');
  for (const p of b) recycleBlock(p.buffer);
});

t.test('allocChunk: power-of-two capacities from 64 KiB, reused across lengths', async (t) => {
  t.equal(chunkCapacity(1), 65536);
  t.equal(chunkCapacity(65537), 131072);
  t.equal(chunkCapacity(600_000), 1 << 20);
  const x = allocChunk(600_000);
  t.equal(x.length, 600_000);
  recycleBlock(x.buffer);
  const y = allocChunk(700_000);
  t.equal(y.buffer, x.buffer, 'a frame of another length took the same memory');
  recycleBlock(y.buffer);
  const shared = allocChunk(600_000, true);
  t.ok(shared.buffer instanceof SharedArrayBuffer, 'shared: memory a worker thread can fill in place');
  t.equal(shared.buffer.byteLength, 1 << 20);
  recycleBlock(shared.buffer);
});
