/**
 * One restore attempt, shared by the disk and S3 stores: a snapshot's verified entry stream into
 * an applier, committed only when every block has checked out, aborted on any failure (the
 * error is rethrown for the store to judge: damage means "try an older snapshot").
 */
import type { Readable } from 'node:stream';
import type { SnapshotApplier } from './source-applier.js';
import type { DecodedEntry } from '../format/entry.js';
import { readSnapshot, type SnapshotEntryStream } from '../snapshot/read-snapshot.js';

export interface ApplyResult {
  /** Entries restored. */
  entries: number;
  /** Entries skipped because they had expired. */
  expired: number;
}

export async function applySnapshot(
  bytes: string | (() => Readable),
  meta: Record<string, unknown>,
  applier: SnapshotApplier,
  options: { now?: number; signal?: AbortSignal } = {},
): Promise<ApplyResult> {
  let stream: SnapshotEntryStream | null = null;
  try {
    await applier.begin(meta);
    stream = readSnapshot(typeof bytes === 'string' ? bytes : bytes(), {
      skipExpired: true,
      now: options.now ?? Date.now(),
      batch: true,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    let entries = 0;
    for await (const batch of stream as AsyncIterable<DecodedEntry[]>) {
      await applier.write(batch);
      entries += batch.length;
    }
    await applier.commit();
    return { entries, expired: stream.expired };
  } catch (err) {
    stream?.destroy();
    await applier.abort();
    throw err;
  }
}
