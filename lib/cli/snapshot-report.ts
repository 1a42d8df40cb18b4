/** How `store` and `s3` print a snapshot list and a verify-all result (one format for both). */
import type { StoredSnapshot } from '../store/snapshot-store.js';
import { report, type CommandContext } from './command.js';
import { EXIT } from './exit-codes.js';
import { formatBytes, plural } from './format.js';

/** One line per snapshot: id, index, term, time, size, entries, codec. */
export function snapshotLines(list: readonly StoredSnapshot[]): string[] {
  if (list.length === 0) return ['(no snapshots)'];
  return list.map(
    (s) =>
      `${s.id}  index ${s.index ?? '-'}  term ${s.term ?? '-'}  ${new Date(s.createdAt).toISOString()}  ` +
      `${formatBytes(s.size)}  ${plural(s.entries, 'entry', 'entries')}  ${s.codec}`,
  );
}

/** Reports a verify-all; exit code 3 when anything was corrupt. */
export function reportVerifyAll(ctx: CommandContext, result: { ok: string[]; corrupt: { id: string; error: Error }[] }, aside: string): number {
  report(
    ctx,
    { ok: result.ok, corrupt: result.corrupt.map((c) => ({ id: c.id, code: (c.error as { code?: string }).code, message: c.error.message })) },
    [...result.ok.map((i) => `${i}: ok`), ...result.corrupt.map((c) => `${c.id}: CORRUPT (${c.error.message}), ${aside}`)],
  );
  return result.corrupt.length > 0 ? EXIT.CORRUPT : EXIT.OK;
}
