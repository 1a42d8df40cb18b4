/** Exit codes of the `snapstream` command (documented in docs/CLI.md). */
import { ErrorCodes, InvalidArgumentError, SnapstreamError, isCorruptionError } from '../errors.js';

export const EXIT = {
  OK: 0,
  /** Any other failure (I/O, a full disk, internal). */
  FAILURE: 1,
  /** Bad command line (unknown command or flag, missing argument), or bad input lines (JSON Lines). */
  USAGE: 2,
  /** The data is corrupt or cannot be verified. */
  CORRUPT: 3,
  /** The network failed: refused connection, dropped connection, timeout, protocol breach. */
  NETWORK: 4,
  /** Authentication failed, or the peer refused the transfer. */
  AUTH: 5,
  /** Interrupted by SIGINT or SIGTERM (128 + SIGINT, as shells report it). */
  INTERRUPTED: 130,
} as const;

/**
 * A command-line mistake (`SNAP_ERR_INVALID_ARGUMENT`): reported with the usage of the command
 * concerned and exit code 2. `usage` is filled in by whoever knows which command it was.
 */
export class UsageError extends InvalidArgumentError {
  /** The usage text to print after the message, when known. */
  usage?: string;
}

/** The exit code for an error. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT.USAGE;
  if (isCorruptionError(err)) return EXIT.CORRUPT;
  if (err instanceof SnapstreamError) {
    if (err.code === ErrorCodes.AUTH || err.code === ErrorCodes.REFUSED) return EXIT.AUTH;
    if (err.code === ErrorCodes.NETWORK || err.code === ErrorCodes.TIMEOUT || err.code === ErrorCodes.PROTOCOL || err.code === ErrorCodes.CANCELLED) {
      return EXIT.NETWORK;
    }
    if (err.code === ErrorCodes.INVALID_ARGUMENT || err.code === ErrorCodes.INVALID_ENTRY) return EXIT.USAGE;
  }
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH') return EXIT.NETWORK;
  return EXIT.FAILURE;
}
