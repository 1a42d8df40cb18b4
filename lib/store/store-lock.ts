/**
 * One process at a time per store: an exclusive `LOCK` file (created with O_EXCL) holding the
 * owner's pid and host. A lock whose owner on this host is no longer alive is stale and taken
 * over; a live owner's lock is a LockedError.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LockedError, wrapIoError } from '../errors.js';

interface LockOwner {
  pid: number;
  host: string;
  since: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class StoreLock {
  private constructor(readonly file: string) {}

  static async acquire(dir: string): Promise<StoreLock> {
    const file = path.join(dir, 'LOCK');
    const me: LockOwner = { pid: process.pid, host: os.hostname(), since: Date.now() };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const handle = await fsp.open(file, 'wx');
        await handle.writeFile(JSON.stringify(me));
        await handle.sync();
        await handle.close();
        return new StoreLock(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw wrapIoError(err, `locking ${dir}`);
      }
      const owner = await readOwner(file);
      if (owner && (owner.host !== me.host || alive(owner.pid))) {
        throw new LockedError(`the store ${dir} is locked by process ${owner.pid} on ${owner.host}`);
      }
      // Stale (its owner died) or unreadable (it died while writing it): take it over.
      await fsp.rm(file, { force: true });
    }
    throw new LockedError(`could not lock the store ${dir}`);
  }

  async release(): Promise<void> {
    await fsp.rm(this.file, { force: true });
  }
}

async function readOwner(file: string): Promise<LockOwner | null> {
  try {
    const owner = JSON.parse(await fsp.readFile(file, 'utf8')) as LockOwner;
    return typeof owner.pid === 'number' && typeof owner.host === 'string' ? owner : null;
  } catch {
    return null;
  }
}
