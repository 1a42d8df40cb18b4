/**
 * One restore attempt, shared by the disk and S3 stores: a snapshot's verified entry stream into
 * an applier, committed only when every block has checked out, aborted on any failure (the
 * error is rethrown for the store to judge: damage means "try an older snapshot").
 * An error the applier raised (a full target disk, its own validation) says nothing about the
 * snapshot's bytes, whatever its code: {@link isApplierError} tells the store so.
 */
import type { Readable } from 'node:stream';
import type { SnapshotApplier } from '../adapters/types.js';
import type { DecodedEntry } from '../format/entry.js';
import { readSnapshot, type SnapshotEntryStream } from '../snapshot/read-snapshot.js';

const applierErrors = new WeakSet<object>();

/** True for an error raised by the applier rather than by reading the snapshot. */
export function isApplierError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && applierErrors.has(err);
}

async function byApplier<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (typeof err === 'object' && err !== null) applierErrors.add(err);
    throw err;
  }
}

export interface AppliedSnapshot {
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
): Promise<AppliedSnapshot> {
  let stream: SnapshotEntryStream | null = null;
  try {
    await byApplier(() => applier.begin(meta));
    stream = readSnapshot(typeof bytes === 'string' ? bytes : bytes(), {
      skipExpired: true,
      now: options.now ?? Date.now(),
      batch: true,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    let entries = 0;
    for await (const batch of stream as AsyncIterable<DecodedEntry[]>) {
      await byApplier(() => applier.write(batch));
      entries += batch.length;
    }
    await byApplier(() => applier.commit());
    return { entries, expired: stream.expired };
  } catch (err) {
    stream?.destroy();
    await byApplier(() => applier.abort());
    throw err;
  }
}
