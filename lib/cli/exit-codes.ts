/** Exit codes of the `snapstream` command (documented in docs/CLI.md). */
import { ErrorCodes, SnapstreamError, isCorruptionError } from '../errors.js';

export const EXIT = {
  OK: 0,
  /** Any other failure (I/O, a full disk, internal). */
  FAILURE: 1,
  /** Bad command line: unknown command or flag, missing argument. */
  USAGE: 2,
  /** The data is corrupt or cannot be verified. */
  CORRUPT: 3,
  /** The network failed: refused connection, dropped connection, timeout, protocol breach. */
  NETWORK: 4,
  /** Authentication failed, or the peer refused the transfer. */
  AUTH: 5,
} as const;

/** A command-line mistake: reported with the usage text and exit code 2. */
export class UsageError extends Error {}

/** The exit code for an error. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT.USAGE;
  if (isCorruptionError(err)) return EXIT.CORRUPT;
  if (err instanceof SnapstreamError) {
    if (err.code === ErrorCodes.AUTH || err.code === ErrorCodes.REFUSED) return EXIT.AUTH;
    if (err.code === ErrorCodes.NETWORK || err.code === ErrorCodes.TIMEOUT || err.code === ErrorCodes.PROTOCOL || err.code === ErrorCodes.CANCELLED) {
      return EXIT.NETWORK;
    }
    if (err.code === ErrorCodes.INVALID_ARGUMENT) return EXIT.USAGE;
  }
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH') return EXIT.NETWORK;
  return EXIT.FAILURE;
}
