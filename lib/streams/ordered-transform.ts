/**
 * OrderedTransform: what the Compressor and Decompressor share. Work on each input runs
 * asynchronously (on worker threads), several at once, and the results are pushed in input
 * order. A write is held back while `concurrency` results are pending or the readable side is
 * full, so memory stays bounded whatever the consumer's pace. In block mode both sides are in
 * object mode (a high-water mark of 2 objects unless given).
 */
import { Transform } from 'node:stream';
import { InvalidArgumentError } from '../errors.js';
import { OrderedResults } from './ordered-results.js';
import { ReadableGate } from './readable-gate.js';
import { nodeStreamOptions, type StageOptions } from './stage-options.js';

/** The options an OrderedTransform reads. */
export interface OrderedTransformOptions extends StageOptions {
  /** Object mode on both sides. */
  blocks?: boolean;
  /** Results pending at once. */
  concurrency?: number;
}

export abstract class OrderedTransform<R> extends Transform {
  protected readonly blockMode: boolean;
  /** Pending results, delivered in order to {@link OrderedTransform.deliver}. */
  protected readonly results: OrderedResults<R>;
  /** Holds a write back while the readable side is full (results are pushed asynchronously). */
  protected readonly gate = new ReadableGate(this);

  /** `defaultConcurrency` applies when the options give none. */
  constructor(options: OrderedTransformOptions, defaultConcurrency: number) {
    const blockMode = options.blocks === true;
    const concurrency = options.concurrency ?? defaultConcurrency;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new InvalidArgumentError('concurrency must be a positive integer');
    super({
      ...nodeStreamOptions(options),
      writableObjectMode: blockMode,
      readableObjectMode: blockMode,
      ...(blockMode && options.highWaterMark === undefined ? { highWaterMark: 2 } : {}),
    });
    this.blockMode = blockMode;
    this.results = new OrderedResults<R>(
      concurrency,
      (out) => {
        this.gate.pushed();
        this.deliver(out);
      },
      (err) => this.destroy(err as Error),
    );
  }

  /**
   * Inputs worked on at once. May be changed while the stream runs: a lower limit lets no new
   * input in until fewer are in flight; a higher one lets a waiting write in at once.
   */
  get concurrency(): number {
    return this.results.limit;
  }

  /** Changes the inputs worked on at once (a positive integer), taking effect at the next input. */
  set concurrency(n: number) {
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('concurrency must be a positive integer');
    this.results.setLimit(n);
  }

  /** Pushes one result, in input order. */
  protected abstract deliver(result: R): void;

  /** Calls back once another input may be taken: a result slot free and room on the readable side. */
  protected whenRoom(callback: () => void): void {
    this.results.whenRoom(() => this.gate.whenRoom(callback));
  }

  override _read(size: number): void {
    // The consumer wants more: let a write held back by a full readable side finish.
    this.gate.release();
    super._read(size);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.results?.stop(); // undefined when an already-aborted signal destroys the stream inside super()
    callback(err);
  }
}
