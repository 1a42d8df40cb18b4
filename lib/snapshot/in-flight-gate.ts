/**
 * InFlightGate: bounds the bytes of blocks a reader holds at once, whatever their size. It sits
 * between the SnapshotParser and the Decompressor and passes a block on only while the blocks
 * already passed and not yet used up downstream (their compressed frames and decompressed data)
 * weigh less than a budget; one block always passes, however large.
 *
 * The stages after it bound what they hold by a count of blocks (two in the workers, two queued
 * for the decoder), which for 1 MiB blocks is a few megabytes but for 64 MiB blocks was four
 * times 64 MiB: the gate never binds in the first case and holds the second to one block.
 *
 * The stage that uses blocks up reports it with {@link InFlightGate.consumed}, as a running total
 * of raw bytes (an EntryDecoder's `progress` bytes, or the sum of the blocks a sink took).
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { ParsedBlock } from './snapshot-parser.js';

/** Default budget of {@link InFlightGate}: one 64 MiB block (the largest a writer makes) at a time. */
export const DEFAULT_MAX_BYTES_IN_FLIGHT = 64 * 1024 * 1024;

interface Passed {
  /** Running total of raw bytes at the end of this block. */
  rawEnd: number;
  weight: number;
}

/**
 * Object mode, {@link ParsedBlock}s in and out unchanged: holds a block back while those passed
 * and not yet {@link InFlightGate.consumed consumed} weigh (frame + raw bytes) more than
 * `maxBytes` with it. Internal to the reader compositions.
 */
export class InFlightGate extends Transform {
  /** Bytes (compressed frame + raw data) of blocks passed and not yet consumed. */
  inFlight = 0;
  /** The most {@link InFlightGate.inFlight} has been. */
  peak = 0;
  private readonly maxBytes: number;
  private readonly passed: Passed[] = [];
  private rawPassed = 0;
  private consumedRaw = 0;
  private held: { block: ParsedBlock; weight: number; callback: TransformCallback } | null = null;

  constructor(maxBytes = DEFAULT_MAX_BYTES_IN_FLIGHT) {
    super({ objectMode: true, highWaterMark: 1 });
    this.maxBytes = maxBytes;
  }

  override _transform(block: ParsedBlock, _encoding: BufferEncoding, callback: TransformCallback): void {
    const weight = block.frame.length + block.rawLength;
    if (this.fits(weight)) this.pass(block, weight, callback);
    else this.held = { block, weight, callback };
  }

  /** The consumer has used up blocks up to `rawTotal` raw bytes in all: their weight is released. */
  consumed(rawTotal: number): void {
    this.consumedRaw = Math.max(this.consumedRaw, rawTotal);
    while (this.passed.length > 0 && this.passed[0]!.rawEnd <= this.consumedRaw) this.inFlight -= this.passed.shift()!.weight;
    const held = this.held;
    if (held && this.fits(held.weight) && !this.destroyed) {
      this.held = null;
      this.pass(held.block, held.weight, held.callback);
    }
  }

  private fits(weight: number): boolean {
    return this.inFlight === 0 || this.inFlight + weight <= this.maxBytes;
  }

  private pass(block: ParsedBlock, weight: number, callback: TransformCallback): void {
    this.rawPassed += block.rawLength;
    this.passed.push({ rawEnd: this.rawPassed, weight });
    this.inFlight += weight;
    if (this.inFlight > this.peak) this.peak = this.inFlight;
    callback(null, block);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.held = null;
    callback(err);
  }
}
