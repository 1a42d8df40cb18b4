/**
 * Start-up clean-up of a directory of snapshots: every `*.partial` file is analysed; those that
 * cannot be resumed (no valid header) are removed, resumable ones are kept and reported so the
 * next write of the same snapshot continues them.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { wrapIoError } from '../errors.js';
import { analyzePartial, type AnalyzePartialResult } from './analyze-partial.js';

/** What {@link cleanPartials} kept and removed. */
export interface CleanupResult {
  /** Partials that can be resumed, with how far each got. */
  kept: AnalyzePartialResult[];
  /** Partials removed, with why they could not be resumed. */
  removed: {
    /** The partial file removed. */
    path: string;
    /** Why it could not be resumed. */
    reason: string;
  }[];
  /**
   * Partials that could be neither analysed nor removed (unreadable, a directory under a
   * `.partial` name), left where they are.
   */
  skipped: {
    /** The entry left in place. */
    path: string;
    /** Why (a typed error: SNAP_ERR_IO and the like). */
    error: Error;
  }[];
}

/**
 * Start-up clean-up of a snapshot directory: removes the `*.partial` files that cannot be
 * resumed (no valid header, or not a file: a symbolic link is removed, its target untouched)
 * and keeps, and reports, those that can; what can be neither read nor removed is `skipped`.
 */
export async function cleanPartials(dir: string): Promise<CleanupResult> {
  const report: CleanupResult = { kept: [], removed: [], skipped: [] };
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (err) {
    throw wrapIoError(err, `listing ${dir}`);
  }
  for (const name of names.filter((n) => n.endsWith('.partial')).sort()) {
    const file = path.join(dir, name);
    // One entry that cannot be read or removed does not stop the clean-up of the others.
    try {
      const analysis = await analyzePartial(file);
      if (analysis.resumable) {
        report.kept.push(analysis);
      } else {
        // A symbolic link is removed as a link: its target is never touched.
        await fsp.rm(file, { force: true });
        report.removed.push({ path: file, reason: analysis.reason ?? 'not resumable' });
      }
    } catch (err) {
      report.skipped.push({ path: file, error: wrapIoError(err, `cleaning up ${file}`) });
    }
  }
  return report;
}
