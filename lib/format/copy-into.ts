/**
 * One bulk copy of bytes into a buffer that may lie in shared memory. `Uint8Array#set` and
 * `Buffer#copy` copy into a SharedArrayBuffer with V8's relaxed atomic moves, byte by byte when
 * source and target are not aligned alike: several times slower than a memcpy (docs/BENCHMARKS.md,
 * "Why the write side is built as it is"). `Buffer#fill` with a buffer exactly the length of the
 * region is one memcpy in Node's C++. For bulk copies only: for a few bytes, `set` costs less per call.
 */

/** Copies all of `source` into `target` at `at`; returns the bytes copied. */
export function copyInto(target: Buffer, source: Uint8Array, at: number): number {
  const n = source.length;
  if (n > 0) target.fill(source, at, at + n);
  return n;
}
