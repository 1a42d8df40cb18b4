/**
 * Pooled memory lent along one recipe's closed pipeline. Recipes that build the whole pipeline
 * themselves (readSnapshot, writeSnapshot, compressFile) make one {@link Leases} and hand it to
 * each stage they construct through the private {@link LEASES} option; the stage that fills a
 * pooled buffer lends it, and the stage that uses it up (writes it to a file, copies out all it
 * needs, moves it to a worker) takes it over or gives it back to the one free list (block-buffers.ts).
 *
 * Everything else — a stage a user constructs, whatever a public stage emits — never touches the
 * pool: what a public stage emits belongs to its consumer, who may keep, tee or change it. The
 * leases live in the recipe's object, not in module globals, so no composition of public stages
 * can reach them. Not exported from the package.
 *
 * Why pool at all: compressed frames, file chunks and decompressed blocks were garbage that
 * often outlived a young collection and then waited for a full one, tens of megabytes at a time.
 */
import { recycleBlock } from './block-buffers.js';

/** The private stage option key: only code inside snapstream can name it. */
export const LEASES = Symbol('snapstream.leases');

/** The memory lent along one closed pipeline, and the CRCs already known of its buffers. */
export class Leases {
  private readonly lent = new WeakSet<ArrayBufferLike>();
  private readonly crcs = new WeakMap<Uint8Array, number>();

  /** Lends the whole memory under `bytes` (an allocBlock or allocStaging buffer) to the next stage. */
  lend(bytes: Uint8Array): void {
    this.lent.add(bytes.buffer);
  }

  /** True when `bytes` lies in memory lent along this pipeline. */
  isLent(bytes: Uint8Array): boolean {
    return this.lent.has(bytes.buffer);
  }

  /** For the last reader of `bytes`: gives its memory back to the pool if it was lent. */
  giveBack(bytes: Uint8Array): void {
    if (this.lent.delete(bytes.buffer)) recycleBlock(bytes.buffer);
  }

  /**
   * For a stage that takes `bytes` over (moves it to a worker, reuses it): true when its memory
   * was lent; the lease ends and the taker owns the memory. `whole`: only when `bytes` spans all of it.
   */
  takeOver(bytes: Uint8Array, whole = false): boolean {
    if (whole && (bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength)) return false;
    return this.lent.delete(bytes.buffer);
  }

  /** Records that `crc32(buf) === crc`, so a later stage of the pipeline need not read `buf` again. */
  rememberCrc(buf: Uint8Array, crc: number): void {
    this.crcs.set(buf, crc);
  }

  /** The CRC32 remembered for exactly `buf`, if any. */
  crcOf(buf: Uint8Array): number | undefined {
    return this.crcs.get(buf);
  }
}

/** The leases a recipe gave a stage through its options, or null for a stage anyone made. */
export function leasesOf(options: object | undefined): Leases | null {
  const leases = (options as { [LEASES]?: unknown } | undefined)?.[LEASES];
  return leases instanceof Leases ? leases : null;
}

/** `options` with `leases` added under the private key (for recipes constructing their stages). */
export function withLeases<T extends object>(options: T, leases: Leases): T {
  return { ...options, [LEASES]: leases };
}
