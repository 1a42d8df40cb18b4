/** Exit codes of the `snapstream` command (documented in docs/CLI.md). */
export const EXIT = {
  OK: 0,
  /** Any other failure (I/O, internal). */
  FAILURE: 1,
  /** Bad command line. */
  USAGE: 2,
  /** The data is corrupt or cannot be verified. */
  CORRUPT: 3,
} as const;

/** A command-line mistake: reported with the usage text and exit code 2. */
export class UsageError extends Error {}
