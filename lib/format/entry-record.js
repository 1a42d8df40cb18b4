/**
 * The entry record: the byte form of one entry (see docs/FORMAT.md, "Entry records").
 *
 *   u8  flags        bit 0: has expiry, bit 1: key is UTF-8 text, bit 2: value is UTF-8 text
 *   u32 keyLength    LE
 *   u32 valueLength  LE
 *   u64 expiresAt    LE, milliseconds since the epoch; present only when bit 0 is set
 *   key bytes, value bytes
 *
 * Encoding writes straight into a preallocated block buffer (strings with `utf8Write`,
 * lengths back-filled), so it costs no allocation and no stream write per entry.
 */
import { InvalidEntryError, LimitError } from '../errors.js';
import { writeU64 } from './binary.js';
import { allocBlock } from './block-buffers.js';
import { contentBlockLimits, keyHash } from './content-boundaries.js';
export const FLAG_EXPIRY = 0x01;
export const FLAG_KEY_TEXT = 0x02;
export const FLAG_VALUE_TEXT = 0x04;
export const FLAGS_KNOWN = FLAG_EXPIRY | FLAG_KEY_TEXT | FLAG_VALUE_TEXT;
export const RECORD_HEADER = 9;
export const EXPIRY_BYTES = 8;
/** Largest encoded record (and so block) a writer makes: 256 MiB, the readers' limit. */
export const MAX_RECORD_BLOCK = 256 * 1024 * 1024;
function checkExpiry(expiresAt, index) {
    if (expiresAt === undefined || expiresAt === null)
        return undefined;
    if (typeof expiresAt !== 'number' || !Number.isSafeInteger(expiresAt) || expiresAt < 0) {
        throw new InvalidEntryError(`entry ${index}: expiresAt must be a non-negative integer of milliseconds`, {
            seq: index,
        });
    }
    return expiresAt;
}
function fieldError(field, index) {
    return new InvalidEntryError(`entry ${index}: ${field} must be a Buffer, Uint8Array or string`, { seq: index });
}
/** Exact encoded size of an entry (used on the slow path and for oversize records). */
export function recordSize(entry, index = 0) {
    const { key, value } = entry;
    const expiry = checkExpiry(entry.expiresAt, index);
    const keyLength = typeof key === 'string' ? Buffer.byteLength(key) : key instanceof Uint8Array ? key.length : -1;
    if (keyLength < 0)
        throw fieldError('key', index);
    const valueLength = typeof value === 'string' ? Buffer.byteLength(value) : value instanceof Uint8Array ? value.length : -1;
    if (valueLength < 0)
        throw fieldError('value', index);
    return RECORD_HEADER + (expiry === undefined ? 0 : EXPIRY_BYTES) + keyLength + valueLength;
}
/**
 * Fills blocks with whole records. `append` returns false when the entry does not fit in what
 * is left of the current block; the caller then takes the block and appends again. An entry
 * larger than a whole block gets a block of its own, sized to fit.
 *
 * With content boundaries (content-boundaries.ts), `append` also sets `boundary` when the block
 * should end after the entry just appended: the caller then takes the block.
 */
export class EntryBlockWriter {
    shared;
    /** The largest block of several records: `blockSize`, or for content boundaries their maximum. */
    blockSize;
    buf;
    /** A view of `buf` for the key hash (content boundaries): words read in one operation. */
    view = null;
    pos = 0;
    /** Entries in the current block. */
    count = 0;
    /** Entries appended since this writer was made (used in error messages). */
    total = 0;
    /** Content boundaries: the block should end after the entry last appended. */
    boundary = false;
    /** Content boundaries: no cut before this many bytes; 0 with fixed blocks. */
    cutMin;
    /** Content boundaries: cut when keyHash < record bytes × cutRate. */
    cutRate;
    /**
     * `shared`: blocks in shared memory (see block-buffers.ts), for a consumer that keeps them
     * inside snapstream. `boundaries`: `'content'` makes `blockSize` the target of content-defined
     * blocks (content-boundaries.ts); `'fixed'` (default) fills every block up to `blockSize`.
     */
    constructor(blockSize, shared = false, boundaries = 'fixed') {
        this.shared = shared;
        if (boundaries === 'content') {
            const limits = contentBlockLimits(blockSize);
            this.blockSize = limits.max;
            this.cutMin = limits.min;
            this.cutRate = 2 ** 32 / (limits.target - limits.min);
        }
        else {
            this.blockSize = blockSize;
            this.cutMin = 0;
            this.cutRate = 0;
        }
        this.buf = allocBlock(this.blockSize, shared);
        if (this.cutRate !== 0)
            this.view = viewOf(this.buf);
    }
    /** Bytes in the current block. */
    get length() {
        return this.pos;
    }
    /** Appends one entry; false if it does not fit in the current block (nothing written). */
    append(entry) {
        const index = this.total;
        if (entry === null || typeof entry !== 'object') {
            throw new InvalidEntryError(`entry ${index}: expected an object { key, value, expiresAt? }`, { seq: index });
        }
        const { key, value } = entry;
        const expiry = checkExpiry(entry.expiresAt, index);
        const buf = this.buf;
        const start = this.pos;
        let flags = expiry === undefined ? 0 : FLAG_EXPIRY;
        const head = RECORD_HEADER + (expiry === undefined ? 0 : EXPIRY_BYTES);
        // Worst case first: 3 bytes per UTF-16 unit. Only near the end of a block do we measure.
        let keyMax;
        if (typeof key === 'string') {
            flags |= FLAG_KEY_TEXT;
            keyMax = key.length * 3;
        }
        else if (key instanceof Uint8Array)
            keyMax = key.length;
        else
            throw fieldError('key', index);
        let valueMax;
        if (typeof value === 'string') {
            flags |= FLAG_VALUE_TEXT;
            valueMax = value.length * 3;
        }
        else if (value instanceof Uint8Array)
            valueMax = value.length;
        else
            throw fieldError('value', index);
        if (start + head + keyMax + valueMax > buf.length) {
            const size = recordSize(entry, index);
            if (start + size > buf.length) {
                if (start > 0)
                    return false;
                // Readers refuse blocks over MAX_RECORD_BLOCK: never write one they would refuse.
                if (size > MAX_RECORD_BLOCK) {
                    throw new LimitError(`entry ${index} encodes to ${size} bytes, over the limit of ${MAX_RECORD_BLOCK}`, {
                        seq: index,
                        expected: MAX_RECORD_BLOCK,
                        actual: size,
                    });
                }
                // An empty block too small for this record: give the record a block of its own.
                this.buf = Buffer.allocUnsafeSlow(size);
                if (this.cutRate !== 0)
                    this.view = viewOf(this.buf);
                return this.append(entry);
            }
        }
        let at = start + head;
        const keyLength = typeof key === 'string' ? writeText(buf, key, at) : copyBytes(buf, key, at);
        at += keyLength;
        const valueLength = typeof value === 'string' ? writeText(buf, value, at) : copyBytes(buf, value, at);
        buf[start] = flags;
        buf.writeUInt32LE(keyLength, start + 1);
        buf.writeUInt32LE(valueLength, start + 5);
        if (expiry !== undefined)
            writeU64(buf, expiry, start + RECORD_HEADER);
        const end = at + valueLength;
        this.pos = end;
        this.count++;
        this.total++;
        // Content boundaries: the key already lies in the block; hashed only once a cut may happen.
        if (this.cutRate !== 0 && end >= this.cutMin)
            this.boundary = keyHash(this.view, at - keyLength, at) < (end - start) * this.cutRate;
        return true;
    }
    /** Hands over the current block's bytes and starts an empty one. */
    take() {
        const block = this.buf.subarray(0, this.pos);
        this.buf = allocBlock(this.blockSize, this.shared);
        if (this.cutRate !== 0)
            this.view = viewOf(this.buf);
        this.pos = 0;
        this.count = 0;
        this.boundary = false;
        return block;
    }
}
function viewOf(buf) {
    return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}
function writeText(buf, text, at) {
    return buf.utf8Write ? buf.utf8Write(text, at) : buf.write(text, at, 'utf8');
}
function copyBytes(buf, bytes, at) {
    buf.set(bytes, at);
    return bytes.length;
}
//# sourceMappingURL=entry-record.js.map