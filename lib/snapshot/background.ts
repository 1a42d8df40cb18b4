/**
 * What `background` means for snapshot creation (writeSnapshot, and the stores' create, which
 * build the same pipeline): how the entry source is paced and how many blocks the compressor
 * works on at once (docs/CONSISTENCY.md, "Sharing the main thread").
 *
 * Background (the default): while the application keeps the event loop busy, the snapshot
 * takes a twentieth of the main thread and compresses on all cores but one, so the application's
 * own core is left to it; while the application is idle, it runs at full speed on every core.
 * `background: false`: full speed whatever the application does (slices only).
 */
import os from 'node:os';
import type { Compressor } from '../streams/compressor.js';
import { BACKGROUND_PACE, checkPace, FULL_SPEED_PACE, type PaceOptions } from './pacer.js';

/** The options that decide how a snapshot shares the process. */
export interface PacingOptions {
  background?: boolean;
  pace?: PaceOptions;
  concurrency?: number;
}

/** How one snapshot's pipeline is paced. */
export interface Pacing {
  /** The entry source's pace. */
  pace: Required<PaceOptions>;
  /** The compressor's concurrency when fixed by the caller. */
  concurrency: number | undefined;
  /** The compressor follows the pacer: fewer blocks at once while the application is busy. */
  follow: boolean;
}

/** The pacing `options` ask for (checked). */
export function pacingOf(options: PacingOptions): Pacing {
  const background = options.background ?? true;
  return {
    pace: checkPace(options.pace ?? (background ? BACKGROUND_PACE : FULL_SPEED_PACE)),
    concurrency: options.concurrency,
    follow: background && options.concurrency === undefined,
  };
}

/** Cores the compressor may use while the application keeps the event loop busy: all but its own. */
export function busyCores(): number {
  return Math.max(1, (os.availableParallelism?.() ?? os.cpus().length) - 1);
}

/**
 * The entry source's `onBusy` for a compressor that follows the application: at most
 * {@link busyCores} blocks at once while it is busy, its own default while it is idle.
 */
export function followBusy(compressor: Compressor): (busy: boolean) => void {
  const full = compressor.concurrency;
  const busy = Math.min(full, busyCores());
  return (isBusy) => {
    compressor.concurrency = isBusy ? busy : full;
  };
}
