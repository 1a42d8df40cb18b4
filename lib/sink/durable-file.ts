/** fsync helpers: what makes a rename survive a power cut. */
import fs from 'node:fs/promises';
import path from 'node:path';

/** fsyncs a directory, so a rename or create inside it is durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  await fsyncPath(dir);
}

/** fsyncs a file written by someone else (a stream that has closed it), before its rename. */
export async function fsyncFile(file: string): Promise<void> {
  await fsyncPath(file);
}

async function fsyncPath(p: string): Promise<void> {
  const handle = await fs.open(p, 'r');
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
