/**
 * CRC32 (IEEE 802.3, the one in zlib, gzip, PNG and Python's `zlib.crc32`).
 *
 * Node's built-in `zlib.crc32` (Node ≥ 20.15) runs ≈ 2× faster than the `crc-32`
 * package on these machines, so it is used where present; `crc-32` gives the same
 * values everywhere else and serves as the cross-check in tests.
 */
import zlib from 'node:zlib';
import { createRequire } from 'node:module';

type Crc32Fn = (data: Uint8Array, previous: number) => number;

const require = createRequire(import.meta.url);

function packageCrc32(): Crc32Fn {
  const CRC32 = require('crc-32') as { buf(data: Uint8Array, seed?: number): number };
  return (data, previous) => CRC32.buf(data, previous) >>> 0;
}

const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** Which implementation {@link crc32} uses here: `'zlib'` or `'crc-32'`. */
export const crc32Implementation: 'zlib' | 'crc-32' = nativeCrc32 ? 'zlib' : 'crc-32';

const impl: Crc32Fn = nativeCrc32 ? (data, previous) => nativeCrc32(data, previous) : packageCrc32();

/**
 * CRC32 of `data`, continuing from `previous` (the CRC of the bytes before it; 0 to start).
 * Returns an unsigned 32-bit integer.
 */
export function crc32(data: Uint8Array, previous = 0): number {
  return impl(data, previous);
}

/** The `crc-32` package's implementation, exposed for cross-checks. */
export const crc32Portable: Crc32Fn = packageCrc32();
