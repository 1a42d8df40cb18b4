/**
 * Progress of a store restore: an applier wrapper that counts the entries written, measured
 * against the snapshot being restored (the candidates newest first; a fallback past a damaged
 * one moves to the next). Bytes are shown in proportion: entries done × size / entries.
 */
import type { SnapshotApplier } from '../store/source-applier.js';
import type { InputProgress } from './progress.js';

/** Wraps `applier`; `progress()` says how far the current attempt has got. */
export function countingApplier(
  applier: SnapshotApplier,
  candidates: readonly { size: number; entries: number }[],
): { applier: SnapshotApplier; progress: () => InputProgress } {
  let attempt = -1;
  let entries = 0;
  const current = (): { size: number; entries: number } | undefined => candidates[Math.max(0, attempt)];
  return {
    applier: {
      begin: (meta) => {
        attempt++;
        entries = 0;
        return applier.begin(meta);
      },
      write: async (batch) => {
        await applier.write(batch);
        entries += batch.length;
      },
      commit: () => applier.commit(),
      abort: () => applier.abort(),
    },
    progress: () => {
      const c = current();
      if (!c) return { bytes: 0, entries };
      // Expired entries are skipped before the applier, so the count may stop short of the total.
      return { bytes: c.entries > 0 ? Math.round((c.size * Math.min(entries, c.entries)) / c.entries) : 0, total: c.size, entries };
    },
  };
}
