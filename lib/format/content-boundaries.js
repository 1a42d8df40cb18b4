/**
 * Content-defined block boundaries (docs/FORMAT.md 3.10): where an entry snapshot's blocks end is
 * decided by the entries themselves, so that two snapshots of mostly the same state cut their
 * blocks in the same places and share most data frames byte for byte. An update or insert then
 * changes the block it falls in (and at most the next), and the blocks after it realign.
 *
 * The rule, for a target size T (the writer's `blockSize`):
 *
 * - a block is never cut before it holds `min` = ⌊T / 2⌋ bytes of records;
 * - after each record that ends at or past `min`, the block ends there when
 *   `keyHash(key) < recordBytes × 2^32 / (T − min)`: about one cut per T − min bytes of records,
 *   whatever their sizes, so blocks average about T;
 * - a record that would take the block past `max` = min(2T, 64 MiB) starts the next block (the
 *   hard maximum, recorded as the header's `blockSize`, which readers bound blocks by); a single
 *   record larger than that gets a block of its own, as with fixed blocks.
 *
 * Only the key decides (not the value), so an updated value moves no boundary but its own
 * block's. The hash looks at the last 32 bytes of the key as encoded (UTF-8 for text) and its
 * length: a few nanoseconds per entry, and only for entries past `min`.
 */
import { MAX_BLOCK_SIZE } from './codec-ids.js';
/** The limits of content-defined blocks of target size `blockSize`. */
export function contentBlockLimits(blockSize) {
    const max = Math.min(2 * blockSize, MAX_BLOCK_SIZE);
    return { target: blockSize, min: Math.floor(blockSize / 2), max };
}
/** The header's `blockSize` (the largest block of several records) for a writer's options. */
export function headerBlockSize(blockSize, boundaries) {
    return boundaries === 'content' ? contentBlockLimits(blockSize).max : blockSize;
}
/**
 * Hash of the key bytes at `[from, end)` of `view` (docs/FORMAT.md 3.10 gives it exactly): its
 * length and last 32 bytes, read four at a time (little-endian words from the end, the last word
 * overlapping the one before it when the length is not a multiple of 4), mixed by multiplication,
 * then murmur3's finaliser. A few nanoseconds for a key of a few dozen bytes.
 */
export function keyHash(view, from, end) {
    const length = end - from;
    let h = Math.imul(length, 0x9e3779b1) ^ 0x811c9dc5;
    if (length >= 4) {
        const stop = length > 32 ? end - 32 : from;
        for (let i = end - 4; i > stop; i -= 4)
            h = Math.imul(h ^ view.getUint32(i, true), 0x01000193) ^ (h >>> 15);
        h = Math.imul(h ^ view.getUint32(stop, true), 0x01000193);
    }
    else {
        for (let i = from; i < end; i++)
            h = Math.imul(h ^ view.getUint8(i), 0x01000193);
    }
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h >>> 0;
}
//# sourceMappingURL=content-boundaries.js.map