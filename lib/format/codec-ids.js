/**
 * The codecs a snapshot file can name, their ids in the header (docs/FORMAT.md §3.4) and the
 * block-size bounds a header may declare. Byte-layout facts, so they live here; `codec/codec.ts`
 * re-exports them beside the option checks.
 */
import { UnsupportedError } from '../errors.js';
/** The codec id byte of the snapshot header, by codec name. */
export const CODEC_IDS = { none: 0, zstd: 1, lz4: 2 };
/** Blocks from 4 KiB to 64 MiB: large enough to compress well, small enough to bound memory. */
export const MIN_BLOCK_SIZE = 4 * 1024;
/** The largest block size a header may declare (see {@link MIN_BLOCK_SIZE}). */
export const MAX_BLOCK_SIZE = 64 * 1024 * 1024;
/** The codec a header's id byte names; an UnsupportedError (at `offset`) for an unknown id. */
export function codecFromId(id, offset = 0) {
    const name = Object.keys(CODEC_IDS).find((n) => CODEC_IDS[n] === id);
    if (name === undefined)
        throw new UnsupportedError(`unknown codec id ${id}`, { offset, actual: id });
    return name;
}
//# sourceMappingURL=codec-ids.js.map