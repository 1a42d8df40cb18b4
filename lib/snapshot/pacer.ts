/**
 * Pacer: how a snapshot's main-thread work (reading the source, encoding entries) shares the
 * event loop with the application (docs/CONSISTENCY.md, "Sharing the main thread").
 *
 * Work runs in slices of at most `slice` ms; between slices the pacer yields with
 * `setImmediate`, so the application's I/O, timers and immediates run: no event-loop pause of
 * the snapshot's own longer than a slice. With `share` below 1 it also caps the snapshot's part
 * of the main thread while the application is busy: each turn the application used earns the
 * snapshot `share / (1 - share)` of that time to work (a token bucket, at most one slice), and
 * a turn the application left idle (shorter than {@link IDLE_TURN_MS}) gives a whole slice, so a
 * snapshot of an idle process is not slowed. While the application is busy, what the snapshot
 * used beyond its allowance is paid back before it works again: a slice's overrun (the clock is
 * read only every {@link CHECK_EVERY} entries) and its pipeline's own work between the slices.
 */
import { setImmediate as immediate } from 'node:timers/promises';
import { InvalidArgumentError } from '../errors.js';

/** How snapshot creation shares the main thread with the application. */
export interface PaceOptions {
  /**
   * Longest stretch of main-thread work (ms) before yielding to the event loop. Default 4.
   * 0 yields after every small batch of entries; `Infinity` never yields (the consumer's
   * backpressure alone decides).
   */
  sliceMs?: number;
  /**
   * While the application keeps the event loop busy, the largest share (0 < share ≤ 1) of the
   * main thread the snapshot takes. Default 1: slices only. A lower share keeps the
   * application's throughput at the cost of a longer snapshot (while the application is idle
   * the snapshot runs at full speed whatever the share).
   */
  share?: number;
}

/** Default slice: pauses well under the 50 ms per million entries budget, a turn's overhead far below it. */
export const DEFAULT_SLICE_MS = 4;
/**
 * What `background` (writeSnapshot's and store.create's default) means: short slices, and a
 * twentieth of the main thread while the application is busy (a tenth until 2026-12-07: a
 * writer that keeps the loop busy lost those points of its rate; docs/CONSISTENCY.md, "Why a
 * twentieth").
 */
export const BACKGROUND_PACE: Required<PaceOptions> = { sliceMs: 2, share: 0.05 };
/** What `background: false` means: slices only, the whole main thread otherwise. */
export const FULL_SPEED_PACE: Required<PaceOptions> = { sliceMs: DEFAULT_SLICE_MS, share: 1 };
/** A turn of the event loop shorter than this left the application nothing to do. */
export const IDLE_TURN_MS = 0.25;
/**
 * The application is busy when at least this many of the last 8 turns were not idle: a turn
 * made long now and then by something else (the snapshot's own compression threads or another
 * process taking the core, a collection) does not make an idle application look busy.
 */
export const BUSY_TURNS = 4;
/** Entries between two looks at the clock (a clock read costs about as much as encoding one entry). */
export const CHECK_EVERY = 64;

/** Checks pace options; returns them complete. */
export function checkPace(pace: PaceOptions | undefined): Required<PaceOptions> {
  const slice = pace?.sliceMs ?? DEFAULT_SLICE_MS;
  const share = pace?.share ?? 1;
  if (typeof slice !== 'number' || !(slice >= 0)) {
    throw new InvalidArgumentError(`pace.sliceMs must be a non-negative number of ms, not ${String(slice)}`);
  }
  if (typeof share !== 'number' || !(share > 0 && share <= 1)) {
    throw new InvalidArgumentError(`pace.share must be a number in (0, 1], not ${String(share)}`);
  }
  return { sliceMs: slice, share };
}

/** Paces one producer's main-thread work: ask {@link Pacer.due} between items, `await yield()` when it says so. */
export class Pacer {
  readonly sliceMs: number;
  readonly share: number;
  private deadline: number;
  /**
   * Work time earned from the application's busy turns (ms), at most a slice; below zero, what
   * the snapshot used beyond its allowance and pays back first (docs/CONSISTENCY.md, "Paid back").
   */
  private tokens = 0;
  /** When the current slice's time ran out: its overrun is measured from here. */
  private sliceEnd = 0;
  /** {@link Pacer.ownMs} when it was last charged. */
  private ownCharged = 0;
  /** Turns the pacer yielded (for tests and diagnostics). */
  yields = 0;
  /**
   * True while the application keeps the event loop busy: at least {@link BUSY_TURNS} of the
   * last 8 turns the pacer yielded took {@link IDLE_TURN_MS} or more. Measured whatever the share.
   */
  busy = false;
  /** The last 8 turns, a bit each (1: not idle), the newest lowest. */
  private recent = 0;
  /** Called when {@link Pacer.busy} changes (writeSnapshot lets the compressor follow it). */
  onBusy: ((busy: boolean) => void) | null = null;
  /**
   * Milliseconds the snapshot's own pipeline has spent on this thread outside the slices, so far
   * (lib/streams/own-time.ts): taken out of each turn, which then holds the application's time only.
   */
  ownMs: (() => number) | null = null;

  constructor(
    pace: PaceOptions = {},
    private readonly now: () => number = () => performance.now(),
    private readonly turn: () => Promise<unknown> = () => immediate(),
  ) {
    const p = checkPace(pace);
    this.sliceMs = p.sliceMs;
    this.share = p.share;
    this.deadline = this.now() + this.sliceMs;
    this.sliceEnd = this.deadline;
  }

  /** True when the current slice is used up. */
  due(): boolean {
    return this.now() >= this.deadline;
  }

  /** Yields to the event loop until the snapshot may work again, then starts a new slice. */
  async yield(): Promise<void> {
    let work = this.sliceMs;
    // The slice's overrun: the clock is read only every CHECK_EVERY entries, so a slice ends
    // late by up to that many entries' work (a large share of a short slice). At most a slice
    // counts: a source that stopped for backpressure resumes past its deadline without working.
    const over = Math.min(this.sliceMs, Math.max(0, this.now() - this.sliceEnd));
    // And the pipeline's own work since the last charge (in the turns before this slice): charged
    // here, once a slice, so that turns holding more of it than they earn cannot stall the snapshot.
    const ownNow = this.ownMs?.() ?? 0;
    this.tokens -= over + (ownNow - this.ownCharged);
    this.ownCharged = ownNow;
    for (;;) {
      const before = this.now();
      const ownBefore = this.ownMs?.() ?? 0;
      await this.turn();
      this.yields++;
      // The snapshot's own deliveries in the turn (frames handed on, written) are not the application's.
      const own = (this.ownMs?.() ?? 0) - ownBefore;
      const other = this.now() - before - own;
      this.recent = ((this.recent << 1) | (other >= IDLE_TURN_MS ? 1 : 0)) & 0xff;
      const busy = bitCount(this.recent) >= BUSY_TURNS;
      if (busy !== this.busy) {
        this.busy = busy;
        this.onBusy?.(busy);
      }
      if (this.share >= 1 || !busy) {
        // Nothing to pay back while the application leaves the main thread idle.
        this.tokens = 0;
        work = this.sliceMs;
        break;
      }
      // The application was busy: work in proportion to its time, waiting turns to earn a whole
      // slice (fewer, longer slices: each one costs the application's caches and the pipeline's
      // wake-up, whatever its length; at most DEFAULT_SLICE_MS, for slices of Infinity).
      this.tokens = Math.min(this.sliceMs, this.tokens + (other * this.share) / (1 - this.share));
      if (this.tokens >= Math.min(this.sliceMs, DEFAULT_SLICE_MS)) {
        work = this.tokens;
        this.tokens = 0;
        break;
      }
    }
    this.deadline = this.now() + work;
    this.sliceEnd = this.deadline;
  }
}

function bitCount(x: number): number {
  let n = 0;
  for (; x !== 0; x &= x - 1) n++;
  return n;
}
