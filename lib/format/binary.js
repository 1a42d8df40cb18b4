/** Little-endian helpers for 64-bit unsigned fields held in JS numbers (safe up to 2^53 − 1). */
import { FormatError } from '../errors.js';
const TWO_32 = 0x1_0000_0000;
/** Writes `value` (an integer in [0, 2^53)) as a u64 LE at `offset`. */
export function writeU64(buf, value, offset) {
    buf.writeUInt32LE(value % TWO_32, offset);
    buf.writeUInt32LE(Math.floor(value / TWO_32), offset + 4);
}
/** Reads a u64 LE; values beyond 2^53 − 1 are a {@link FormatError}. */
export function readU64(buf, offset) {
    const lo = buf.readUInt32LE(offset);
    const hi = buf.readUInt32LE(offset + 4);
    if (hi > 0x1f_ffff) {
        throw new FormatError(`64-bit field at byte ${offset} exceeds 2^53`, { offset });
    }
    return hi * TWO_32 + lo;
}
//# sourceMappingURL=binary.js.map