/** JSON files replaced atomically: write a temp file, fsync it, rename over, fsync the directory. */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { durableRename } from '../sink/durable-file.js';

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  const handle = await fsp.open(temp, 'w');
  try {
    await handle.writeFile(`${JSON.stringify(value, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await durableRename(temp, file);
}

/** The parsed file, or `fallback` when it does not exist. */
export async function readJson<T>(file: string, fallback: T): Promise<T> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw err;
  }
}
