/** The id a store gives a snapshot created without one: sortable, from its metadata and time. */

/** A sortable id: the Raft index (zero-padded) when there is one, then the time. */
export function defaultId(meta: Record<string, unknown>, createdAt: number): string {
  const index = typeof meta.index === 'number' && Number.isSafeInteger(meta.index) ? String(meta.index).padStart(16, '0') : null;
  return index ? `snap-${index}-${createdAt}` : `snap-${createdAt}`;
}
