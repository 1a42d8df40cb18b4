/**
 * Snapshot ids name files on the receiving side, so they are checked before anything else:
 * letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most 200 characters;
 * no path separators, no `..`.
 */
import { InvalidArgumentError } from '../errors.js';

export const MAX_ID_LENGTH = 200;
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Why `id` is not a valid snapshot id, or null if it is. */
export function snapshotIdProblem(id: unknown): string | null {
  if (typeof id !== 'string' || id.length === 0) return 'the snapshot id must be a non-empty string';
  if (id.length > MAX_ID_LENGTH) return `the snapshot id is longer than ${MAX_ID_LENGTH} characters`;
  if (!ID.test(id)) return 'the snapshot id may hold only letters, digits, ".", "_" and "-", starting with a letter or digit';
  if (id.includes('..')) return 'the snapshot id may not contain ".."';
  if (id.endsWith('.partial')) return 'the snapshot id may not end in ".partial"';
  return null;
}

/** Returns `id` if it is a valid snapshot id; throws an InvalidArgumentError saying why if not. */
export function checkSnapshotId(id: unknown): string {
  const problem = snapshotIdProblem(id);
  if (problem) throw new InvalidArgumentError(problem);
  return id as string;
}
