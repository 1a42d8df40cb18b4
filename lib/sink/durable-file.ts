/** fsync helpers: what makes a rename survive a power cut. */
import fs from 'node:fs/promises';
import path from 'node:path';

/** fsyncs a directory, so a rename or create inside it is durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Renames `from` to `to` and fsyncs the directory holding `to`. `from` must already be fsync'd. */
export async function durableRename(from: string, to: string): Promise<void> {
  await fs.rename(from, to);
  await fsyncDirectory(path.dirname(to));
}
