/**
 * What a store skipped rather than fail on: a file that is not a snapshot, a file whose name is
 * not a snapshot id, a directory under a snapshot's name, a malformed `store.json` entry, an
 * unreadable file. The store opens and lists, verifies and restores every good snapshot anyway.
 */
import { IoError, SnapstreamError, type ErrorCode, wrapIoError } from '../errors.js';

/** Something a {@link SnapshotStore} or an S3SnapshotStore skipped, with why (see their `problems`). */
export interface StoreProblem {
  /** The file (an object key, for an S3 store) concerned. */
  path: string;
  /** The snapshot id its name gives, when it is a valid one. */
  id?: string;
  /** The stable code of `error`, such as `SNAP_ERR_IO` or `SNAP_ERR_FORMAT`. */
  code: ErrorCode;
  /** What was wrong, and what the store did about it. */
  message: string;
  /** The typed error. */
  error: SnapstreamError;
}

/** A problem record for `file` from any error (a raw system error becomes a typed one). */
export function storeProblem(file: string, err: unknown, what: string, id?: string): StoreProblem {
  const wrapped = wrapIoError(err, what);
  const error = wrapped instanceof SnapstreamError ? wrapped : new IoError(`${what}: ${wrapped.message}`, { cause: err });
  return { path: file, ...(id !== undefined ? { id } : {}), code: error.code, message: error.message, error };
}
