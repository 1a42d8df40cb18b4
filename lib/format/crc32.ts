/**
 * CRC32 (IEEE 802.3, the one in zlib, gzip, PNG and Python's `zlib.crc32`).
 *
 * Node's built-in `zlib.crc32` (Node ≥ 20.15) is the faster of the two (docs/BENCHMARKS.md,
 * "Figures behind choices in the code"), so it is used where present; `crc-32` gives the same
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

let portable: Crc32Fn | null = null;

/** The `crc-32` package's implementation, exposed for cross-checks (loaded on first use). */
export const crc32Portable: Crc32Fn = (data, previous) => (portable ??= packageCrc32())(data, previous);

/*
 * crc32Combine: the CRC32 of A‖B from crc(A), crc(B) and |B|, in O(log |B|) (zlib 1.2.12's
 * crc32_combine: multiply crc(A) by x^(8·|B|) modulo the CRC polynomial). Lets a stage extend a
 * running CRC over a frame whose CRC a worker thread already computed, instead of reading the
 * frame's bytes again.
 */
const POLY = 0xedb88320;

/** a·b modulo the CRC polynomial (bit-reflected). */
function multModP(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

/** X2N[k] = x^(2^k) modulo the polynomial. */
const X2N = new Uint32Array(32);
{
  let p = 0x40000000; // x^1
  X2N[0] = p;
  for (let n = 1; n < 32; n++) X2N[n] = p = multModP(p, p);
}

/** x^(n·2^k) modulo the polynomial. */
function x2nModP(n: number, k: number): number {
  let p = 0x80000000; // x^0
  while (n > 0) {
    if (n % 2 === 1) p = multModP(X2N[k & 31]!, p);
    n = Math.floor(n / 2);
    k++;
  }
  return p;
}

/** CRC32 of the concatenation A‖B, given `crcA`, `crcB` and B's length. */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  return (multModP(x2nModP(lengthB, 3), crcA >>> 0) ^ crcB) >>> 0;
}
