/**
 * One process at a time per store: a `LOCK` file holding the owner's pid and host. A lock whose
 * owner on this host is no longer alive is stale and taken over; a live owner's lock is a
 * LockedError.
 *
 * Race-free between processes that open the store at the same moment:
 *  - the lock appears whole: the owner record is written and fsync'd to a file of our own, then
 *    hard-linked to `LOCK` (link fails if `LOCK` exists). There is no moment at which another
 *    process can read an empty or half-written lock and take it for a dead one;
 *  - a stale lock is removed only under a second lock, `LOCK.takeover` (taken the same way), and
 *    only if it still holds the very record found stale. Since nobody can create `LOCK` while
 *    the stale one exists, two processes can never both remove a lock and both take it.
 * What is left: a process killed while holding `LOCK.takeover` (a few system calls long) leaves
 * it stale too, and two processes both clearing *that* at the same moment could, in theory, both
 * go on. A file system without hard links falls back to an exclusive create.
 */
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LockedError, wrapIoError } from '../errors.js';
import { fsyncDirectory } from '../sink/durable-file.js';

interface LockOwner {
  pid: number;
  host: string;
  since: number;
}

/** An unreadable lock file younger than this is being written by someone, not stale. */
const UNREADABLE_GRACE_MS = 10_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const code = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | null)?.code;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class StoreLock {
  private constructor(
    readonly file: string,
    private readonly record: string,
  ) {}

  static async acquire(dir: string): Promise<StoreLock> {
    const file = path.join(dir, 'LOCK');
    const me: LockOwner & { nonce: string } = { pid: process.pid, host: os.hostname(), since: Date.now(), nonce: randomBytes(8).toString('hex') };
    const record = JSON.stringify(me);
    const mine = path.join(dir, `.LOCK.${process.pid}.${me.nonce}`);
    try {
      await writeDurably(mine, record);
      for (let attempt = 0; attempt < 200; attempt++) {
        if (await createFrom(mine, file)) {
          await fsyncDirectory(dir);
          await removeDeadRecords(dir);
          return new StoreLock(file, record);
        }
        const found = await readLock(file);
        if (found === null) continue; // gone meanwhile: try again
        if (found.owner && (found.owner.host !== me.host || alive(found.owner.pid))) {
          throw new LockedError(`the store ${dir} is locked by process ${found.owner.pid} on ${found.owner.host}`);
        }
        if (!found.owner && Date.now() - found.mtimeMs < UNREADABLE_GRACE_MS) {
          await sleep(10);
          continue;
        }
        // Stale (its owner died): remove that very lock, under the takeover lock.
        const done = await takingOver(dir, mine, async () => {
          const now = await readLock(file);
          if (now?.text === found.text) await fsp.rm(file, { force: true });
        });
        if (!done) await sleep(2 + Math.random() * 8); // another process is taking over
      }
      throw new LockedError(`could not lock the store ${dir}`);
    } catch (err) {
      throw wrapIoError(err, `locking ${dir}`);
    } finally {
      await fsp.rm(mine, { force: true }).catch(() => {});
    }
  }

  /** Removes the lock, if it is still ours. */
  async release(): Promise<void> {
    const found = await readLock(this.file);
    if (found?.text === this.record) await fsp.rm(this.file, { force: true });
  }
}

/** Removes the `.LOCK.<pid>.<nonce>` records of processes killed while locking. */
async function removeDeadRecords(dir: string): Promise<void> {
  for (const name of await fsp.readdir(dir)) {
    const pid = /^\.LOCK\.(\d+)\.[0-9a-f]+$/.exec(name)?.[1];
    if (pid !== undefined && Number(pid) !== process.pid && !alive(Number(pid))) await fsp.rm(path.join(dir, name), { force: true });
  }
}

/** Writes `text` to a new file and fsyncs it. */
async function writeDurably(file: string, text: string): Promise<void> {
  const handle = await fsp.open(file, 'wx');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes `target` appear with `source`'s content, unless it exists. True if it was made. */
async function createFrom(source: string, target: string): Promise<boolean> {
  try {
    await fsp.link(source, target);
    return true;
  } catch (err) {
    if (code(err) === 'EEXIST') return false;
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(code(err) ?? '')) throw err;
  }
  // No hard links here: an exclusive create, written at once (a reader seeing it empty waits).
  try {
    await writeDurably(target, await fsp.readFile(source, 'utf8'));
    return true;
  } catch (err) {
    if (code(err) === 'EEXIST') return false;
    throw err;
  }
}

/** Runs `work` holding `<dir>/LOCK.takeover`; false (without running it) if another live process holds it. */
async function takingOver(dir: string, mine: string, work: () => Promise<void>): Promise<boolean> {
  const guard = path.join(dir, 'LOCK.takeover');
  if (!(await createFrom(mine, guard))) {
    const found = await readLock(guard);
    const dead = found && (found.owner ? found.owner.host === os.hostname() && !alive(found.owner.pid) : Date.now() - found.mtimeMs >= UNREADABLE_GRACE_MS);
    if (dead) {
      const now = await readLock(guard);
      if (now?.text === found.text) await fsp.rm(guard, { force: true });
    }
    return false;
  }
  try {
    await work();
    return true;
  } finally {
    await fsp.rm(guard, { force: true });
  }
}

/** The lock file's text, its parsed owner (null if unreadable) and age; null if there is none. */
async function readLock(file: string): Promise<{ text: string; owner: LockOwner | null; mtimeMs: number } | null> {
  let text: string;
  let mtimeMs: number;
  try {
    const handle = await fsp.open(file, 'r');
    try {
      text = await handle.readFile('utf8');
      mtimeMs = (await handle.stat()).mtimeMs;
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (code(err) === 'ENOENT') return null;
    throw err;
  }
  try {
    const owner = JSON.parse(text) as LockOwner;
    return { text, mtimeMs, owner: typeof owner.pid === 'number' && typeof owner.host === 'string' ? owner : null };
  } catch {
    return { text, mtimeMs, owner: null };
  }
}
