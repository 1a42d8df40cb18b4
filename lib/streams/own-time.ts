/**
 * Main-thread time a recipe's own stages spend outside its entry source's slices: a Compressor
 * handing a frame on, and what the stages after it do with it then (framing, the start of its
 * write). writeSnapshot's pacer judges whether the application keeps the event loop busy by how
 * long a turn of it takes (lib/snapshot/pacer.ts); without this, the snapshot's own deliveries
 * in those turns made an idle process look busy, and the snapshot then ran at its background
 * share of the main thread on one core (docs/BENCHMARKS.md, "The write side in a big heap and on small entries").
 *
 * Given to a stage through a private option, as leases.ts does: only code inside snapstream can
 * name it, and a stage anyone else constructs keeps no such account. Not exported from the package.
 */

/** The private stage option key. */
export const OWN_TIME = Symbol('snapstream.ownTime');

/** Milliseconds of one pipeline's own work, counted by its stages (nested spans count once). */
export class OwnTime {
  /** Milliseconds counted so far. */
  ms = 0;
  private depth = 0;
  private since = 0;

  /** A span of the pipeline's own work begins. */
  enter(): void {
    if (this.depth++ === 0) this.since = performance.now();
  }

  /** The span begun by the matching {@link enter} ends. */
  leave(): void {
    if (--this.depth === 0) this.ms += performance.now() - this.since;
  }
}

/** The account a recipe gave a stage through its options, or null. */
export function ownTimeOf(options: object | undefined): OwnTime | null {
  const own = (options as { [OWN_TIME]?: unknown } | undefined)?.[OWN_TIME];
  return own instanceof OwnTime ? own : null;
}

/** `options` with `own` added under the private key (for recipes constructing their stages). */
export function withOwnTime<T extends object>(options: T, own: OwnTime): T {
  return { ...options, [OWN_TIME]: own };
}
