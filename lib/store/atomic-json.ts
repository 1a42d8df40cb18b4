/** JSON files replaced atomically: write a temp file, fsync it, rename over, fsync the directory. */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { wrapIoError } from '../errors.js';
import { durableRename } from '../sink/durable-file.js';
import { createFresh } from '../sink/safe-open.js';

let sequence = 0;

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  try {
    await writeJson(file, value);
  } catch (err) {
    throw wrapIoError(err, `writing ${file}`);
  }
}

async function writeJson(file: string, value: unknown): Promise<void> {
  // A name of its own per write: two writes in flight never share (and truncate) a temp file.
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${sequence++}.tmp`);
  // Created afresh: a link planted under the temp name is replaced, never written through.
  const handle = await createFresh(temp);
  try {
    await handle.writeFile(`${JSON.stringify(value, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await durableRename(temp, file);
}

/** The parsed file, or `fallback` when it does not exist or does not parse (the caller rebuilds). */
export async function readJson<T>(file: string, fallback: T): Promise<T> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw wrapIoError(err, `reading ${file}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}
