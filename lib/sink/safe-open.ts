/**
 * Opening the files snapstream creates (partials, temporary files) without ever following a
 * symbolic link, or writing through a hard link, planted at their path: a new file replaces
 * whatever entry is there (the entry is unlinked, never its target) and is created with
 * O_CREAT|O_EXCL, which does not follow links; an existing one is opened with O_NOFOLLOW and
 * must be a regular file.
 */
import fs from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import { IoError } from '../errors.js';

const { O_WRONLY, O_RDWR, O_RDONLY, O_CREAT, O_EXCL } = fs.constants;
/** 0 where the platform has none (Windows, where creating a link needs privileges anyway). */
const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;

const errno = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | null)?.code;

/** True for the error an O_NOFOLLOW open gives on a symbolic link (ELOOP; EMLINK on the BSDs). */
export function isSymlinkRefusal(err: unknown): boolean {
  return errno(err) === 'ELOOP' || errno(err) === 'EMLINK';
}

/**
 * Creates `file` afresh for writing. Whatever entry is at the path (an old partial, a symbolic
 * link, a hard link to someone else's file) is unlinked first, so its target is never touched;
 * a directory there is an IoError. A file that appears between the unlink and the exclusive
 * create (another writer) is an IoError too, never opened.
 */
export async function createFresh(file: string, mode = 0o644): Promise<FileHandle> {
  try {
    await fsp.unlink(file);
  } catch (err) {
    const code = errno(err);
    if (code === 'EISDIR' || (code === 'EPERM' && (await isDirectory(file)))) {
      throw new IoError(`${file} is a directory: it cannot be replaced by the file snapstream writes there`, { cause: err });
    }
    if (code !== 'ENOENT') throw err;
  }
  try {
    return await fsp.open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  } catch (err) {
    if (errno(err) === 'EEXIST') throw new IoError(`${file} was created by someone else while snapstream was creating it`, { cause: err });
    throw err;
  }
}

/**
 * Opens an existing file that snapstream wrote (a partial to resume), refusing a symbolic link
 * (IoError, the link left alone) or anything but a regular file.
 */
export async function openExisting(file: string, mode: 'r' | 'r+'): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await fsp.open(file, (mode === 'r+' ? O_RDWR : O_RDONLY) | O_NOFOLLOW);
  } catch (err) {
    if (isSymlinkRefusal(err)) throw new IoError(`${file} is a symbolic link: snapstream never writes or resumes through one`, { cause: err });
    throw err;
  }
  const stat = await handle.stat().catch(async (err: unknown) => {
    await handle.close();
    throw err;
  });
  if (!stat.isFile()) {
    await handle.close();
    throw new IoError(`${file} is not a regular file`);
  }
  return handle;
}

async function isDirectory(file: string): Promise<boolean> {
  return fsp.lstat(file).then(
    (s) => s.isDirectory(),
    () => false,
  );
}
