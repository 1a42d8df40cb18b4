/** How `store` and `s3` print a snapshot list and a verify-all result (one format for both). */
import type { StoredSnapshot, VerifyAllResult } from '../store/snapshot-store-interface.js';
import type { StoreProblem } from '../store/store-problem.js';
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

/** What a store skipped, one warning line each on stderr: `snapstream: warning: … [CODE]`. */
export function warnProblems(problems: readonly StoreProblem[] = []): void {
  for (const p of problems) process.stderr.write(`snapstream: warning: ${p.message} [${p.code}]\n`);
}

/** A store problem as printed with --json. */
export const problemJson = (p: StoreProblem): unknown => ({ path: p.path, ...(p.id !== undefined ? { id: p.id } : {}), code: p.code, message: p.message });

const errorJson = (c: { id: string; error: Error }): unknown => ({ id: c.id, code: (c.error as { code?: string }).code, message: c.error.message });

/**
 * Reports a verify-all; exit code 3 when anything was corrupt, else 1 when a snapshot could not
 * be checked (the environment failed; it was left in place). Skipped files are warnings.
 */
export function reportVerifyAll(ctx: CommandContext, result: VerifyAllResult, aside: string): number {
  warnProblems(result.problems);
  report(
    ctx,
    { ok: result.ok, corrupt: result.corrupt.map(errorJson), failed: result.failed.map(errorJson), problems: result.problems.map(problemJson) },
    [
      ...result.ok.map((i) => `${i}: ok`),
      ...result.corrupt.map((c) => `${c.id}: CORRUPT (${c.error.message}), ${aside}`),
      ...result.failed.map((c) => `${c.id}: could not be verified (${c.error.message}) [${(c.error as { code?: string }).code}], left in place`),
    ],
  );
  return result.corrupt.length > 0 ? EXIT.CORRUPT : result.failed.length > 0 ? EXIT.FAILURE : EXIT.OK;
}
