/**
 * Which snapshots a retention policy removes. Pure: the store applies it, the tests table it.
 *
 * Snapshots are taken newest first; each is kept unless a rule drops it:
 *  - `maxSnapshots`: this many newer ones are kept already;
 *  - `maxAgeMs`: it is older than this;
 *  - `minIntervalMs`: it is closer than this to the next newer snapshot kept;
 *  - `maxTotalBytes`: keeping it would take the kept total over this.
 * The newest snapshot and those in use are never dropped (they still count towards the limits).
 */
export interface RetentionPolicy {
  /** Most snapshots kept. */
  maxSnapshots?: number;
  /** Age in ms (at `now`) past which a snapshot is dropped. */
  maxAgeMs?: number;
  /** Least time in ms between snapshots kept: one closer than this to the next newer kept one is dropped. */
  minIntervalMs?: number;
  /** Most bytes kept: the kept snapshots' sizes summed. */
  maxTotalBytes?: number;
}

/** What retention needs to know of a snapshot ({@link StoredSnapshot} has it). */
export interface RetainedSnapshot {
  /** The snapshot's id. */
  id: string;
  /** Creation time, ms since the epoch. */
  createdAt: number;
  /** Size in bytes. */
  size: number;
}

/**
 * The ids of the snapshots `policy` removes at time `now` (ms since the epoch), newest first.
 * The newest snapshot and those in `inUse` are never among them.
 */
export function snapshotsToPrune(
  snapshots: readonly RetainedSnapshot[],
  policy: RetentionPolicy,
  now: number,
  inUse: ReadonlySet<string> = new Set(),
): string[] {
  const newestFirst = [...snapshots].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
  const drop: string[] = [];
  let kept = 0;
  let total = 0;
  let lastKept: number | null = null;
  newestFirst.forEach((s, i) => {
    const protectedSnapshot = i === 0 || inUse.has(s.id);
    const dropIt =
      !protectedSnapshot &&
      ((policy.maxSnapshots !== undefined && kept >= policy.maxSnapshots) ||
        (policy.maxAgeMs !== undefined && now - s.createdAt > policy.maxAgeMs) ||
        (policy.minIntervalMs !== undefined && lastKept !== null && lastKept - s.createdAt < policy.minIntervalMs) ||
        (policy.maxTotalBytes !== undefined && total + s.size > policy.maxTotalBytes));
    if (dropIt) {
      drop.push(s.id);
      return;
    }
    kept++;
    total += s.size;
    lastKept = s.createdAt;
  });
  return drop;
}
