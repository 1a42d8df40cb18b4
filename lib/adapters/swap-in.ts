/**
 * Replacing a live directory (a database, a tree) with one built beside it, so a crash leaves
 * the old one or the new one, never half of either:
 *   `<target>.restoring` (built and fsync'd by the caller) → rename `<target>` to
 *   `<target>.replaced` → rename `.restoring` to `<target>` → fsync the parent → remove the old.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fsyncDirectory } from '../sink/durable-file.js';

const exists = (p: string): Promise<boolean> => fsp.stat(p).then(() => true, () => false);

/** Where the new copy is built before it is swapped in. */
export function stagingPathFor(target: string): string {
  return `${target}.restoring`;
}

/** Swaps the fsync'd staging directory in for `target` (which may not exist yet). */
export async function swapIn(target: string): Promise<void> {
  const replaced = `${target}.replaced`;
  await fsp.rm(replaced, { recursive: true, force: true });
  if (await exists(target)) await fsp.rename(target, replaced);
  await fsp.rename(stagingPathFor(target), target);
  await fsyncDirectory(path.dirname(target));
  await fsp.rm(replaced, { recursive: true, force: true });
}

/** Finishes or undoes a swap a crash interrupted: afterwards `target` is whole, old or new. */
export async function recoverSwap(target: string): Promise<void> {
  const replaced = `${target}.replaced`;
  if (!(await exists(target)) && (await exists(replaced))) await fsp.rename(replaced, target);
  await fsp.rm(stagingPathFor(target), { recursive: true, force: true });
  await fsp.rm(replaced, { recursive: true, force: true });
}
