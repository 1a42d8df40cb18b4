/**
 * A directory tree (a log's segment and index files, a tree's node and leaf files) as one
 * snapshot stream, and back.
 *
 * Each directory, file and symlink becomes entries whose key is JSON
 * `{ t: 'd' | 'f' | 'l', p: relative path, m: mode, i: part, n: parts }` and whose value is the
 * file's bytes (in parts of at most 4 MiB, read one at a time: memory stays bounded whatever the
 * file sizes), or the link's target. The walk is sorted, so the cursor (entries so far) is
 * stable and a creation can resume. The source reads a point-in-time view taken at its call
 * (directory-view.ts): every file opened and its length fixed in the caller's tick.
 *
 * The applier rebuilds the tree in `<target>.restoring`, fsyncs it, then swaps it in for
 * `<target>` with renames; a crash leaves either the old tree or the new one (`recoverDirectory`
 * finishes a swap a crash interrupted).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { FormatError, InvalidArgumentError, SourceChangedError, wrapIoError } from '../errors.js';
import type { DecodedEntry, Entry } from '../format/entry.js';
import { fsyncDirectory } from '../sink/durable-file.js';
import { readFully } from '../sink/read-fully.js';
import { closeWhenCollected, forgetOwner as forgetView } from './close-when-collected.js';
import { DirectoryView } from './directory-view.js';
import { recoverSwap, stagingPathFor, swapIn } from './swap-in.js';
import { typedFailures, type SnapshotApplier, type SnapshotSource } from '../store/source-applier.js';

/** Files are cut into entries of at most this many bytes (4 MiB), read one at a time. */
export const DIRECTORY_PART_SIZE = 4 * 1024 * 1024;

interface TreeKey {
  t: 'd' | 'f' | 'l';
  p: string;
  m: number;
  i?: number;
  n?: number;
}

interface TreeItem {
  type: 'd' | 'f' | 'l';
  rel: string;
  mode: number;
  size: number;
}

/** Every item under `root`, sorted by path, directories before their contents. */
async function walk(root: string, rel = ''): Promise<TreeItem[]> {
  const out: TreeItem[] = [];
  const names = (await fsp.readdir(path.join(root, rel))).sort();
  for (const name of names) {
    const relPath = rel ? `${rel}/${name}` : name;
    const st = await fsp.lstat(path.join(root, relPath));
    const mode = st.mode & 0o7777;
    if (st.isDirectory()) {
      out.push({ type: 'd', rel: relPath, mode, size: 0 });
      out.push(...(await walk(root, relPath)));
    } else if (st.isSymbolicLink()) out.push({ type: 'l', rel: relPath, mode, size: 0 });
    else if (st.isFile()) out.push({ type: 'f', rel: relPath, mode, size: st.size });
  }
  return out;
}

function partsOf(item: { type: TreeItem['type']; size: number }): number {
  return item.type === 'f' ? Math.max(1, Math.ceil(item.size / DIRECTORY_PART_SIZE)) : 1;
}

/** Options of {@link directorySource}. */
export interface DirectorySourceOptions {
  /**
   * Most files the view may hold open at once (one descriptor each, until the file is read).
   * A bigger tree is refused up front with an InvalidArgumentError. Default 4096.
   */
  maxOpenFiles?: number;
}

/** Files listed one by one in the header's metadata (`files`) up to this many; past it, totals only. */
const LISTED_FILES = 10_000;

/**
 * The tree under `root` as of this call, as a snapshot source: one entry per directory, symlink
 * and file part, in sorted path order. Its cursor is the number of entries passed, so a creation
 * can resume. For trees of append-only files (log segments) the snapshot is a point-in-time view:
 * every file is opened and its length fixed now, in the caller's tick; appends made later are
 * left out, a file deleted or renamed later is still read whole, and a file rewritten in place
 * (shorter, or a new mtime at the same length) fails the snapshot with SNAP_ERR_SOURCE_CHANGED.
 * Take your own high-water mark in the same tick, with no append of yours in flight, and pass it
 * in `meta`: the header then says exactly what the snapshot holds. The header also gets
 * `kind: 'directory'`, `fileCount`, `bytes` and, up to 10,000 files, `files` (path → length).
 *
 * The descriptors are closed as each file is read, and all of them when the view closes: read to
 * the end, stopped early, `close()` (the store calls it), or the source collected as garbage.
 */
export function directorySource(root: string, meta: Record<string, unknown> = {}, options: DirectorySourceOptions = {}): SnapshotSource {
  const view = new DirectoryView(root, options.maxOpenFiles);
  const totals = view.totals();
  const taken: Record<string, unknown> = {
    kind: 'directory',
    ...structuredClone(meta),
    fileCount: totals.files,
    bytes: totals.bytes,
    ...(totals.files <= LISTED_FILES ? { files: Object.fromEntries(view.items.filter((i) => i.type === 'f').map((i) => [i.rel, i.size])) } : {}),
  };
  const close = (): void => {
    forgetView(view);
    view.close();
  };
  const source: SnapshotSource = {
    async *entries(cursor: unknown): AsyncGenerator<Entry> {
      if (!view.isOpen) throw new InvalidArgumentError('this directorySource view is closed (read once, stopped or closed): take a new directorySource');
      // Holds the source while it is read: a view is closed as garbage only once nothing reads it.
      void source;
      let skip = typeof cursor === 'number' ? cursor : 0;
      try {
        for (const item of view.items) {
          const parts = partsOf(item);
          if (skip >= parts) {
            skip -= parts;
            view.release(item);
            continue;
          }
          if (item.type !== 'f') {
            yield { key: JSON.stringify({ t: item.type, p: item.rel, m: item.mode } satisfies TreeKey), value: item.type === 'l' ? item.target : '' };
            continue;
          }
          const full = path.join(root, item.rel);
          for (let i = skip; i < parts; i++) {
            const length = Math.max(0, Math.min(DIRECTORY_PART_SIZE, item.size - i * DIRECTORY_PART_SIZE));
            const value = Buffer.allocUnsafe(length);
            let got: number;
            try {
              got = await readFully(item.fd, value, i * DIRECTORY_PART_SIZE);
            } catch (err) {
              throw wrapIoError(err, `reading ${full}`);
            }
            // Checked before the last part goes out: a torn file never completes a snapshot.
            if (got < length || i === parts - 1) view.check(item);
            if (got < length) throw new SourceChangedError(`${full} ended at ${i * DIRECTORY_PART_SIZE + got} bytes, short of the ${item.size} the view fixed`);
            yield { key: JSON.stringify({ t: 'f', p: item.rel, m: item.mode, i, n: parts } satisfies TreeKey), value };
          }
          view.release(item);
          skip = 0;
        }
      } finally {
        close();
      }
    },
    meta: () => taken,
    close,
  };
  closeWhenCollected(source, view);
  return source;
}

function parseKey(entry: DecodedEntry): TreeKey {
  let key: TreeKey;
  try {
    key = JSON.parse(entry.key.toString()) as TreeKey;
  } catch {
    throw new FormatError('not a directory snapshot entry');
  }
  if (typeof key !== 'object' || key === null || (key.t !== 'd' && key.t !== 'f' && key.t !== 'l')) {
    throw new FormatError('not a directory snapshot entry');
  }
  // Never write outside the target, whatever the snapshot says.
  if (typeof key.p !== 'string' || key.p === '' || path.isAbsolute(key.p) || key.p.includes('\0') || key.p.split('/').some((s) => s === '..' || s === '' || s === '.')) {
    throw new FormatError(`unsafe path in directory snapshot: ${JSON.stringify(key.p)}`);
  }
  if (!Number.isInteger(key.m) || key.m < 0 || key.m > 0o7777) throw new FormatError(`bad mode for ${key.p} in directory snapshot`);
  if (key.t === 'f') {
    const { i = 0, n = 1 } = key;
    if (!Number.isInteger(i) || !Number.isInteger(n) || i < 0 || i >= n) throw new FormatError(`bad part ${i}/${n} of ${key.p} in directory snapshot`);
  }
  return key;
}

/**
 * Restores into `target`. The snapshot is checked as it is applied, so that nothing is ever
 * written outside the target: every path must be relative without `..`, and its parent must be
 * a directory the snapshot made before (the walk order) — never a symlink it planted — and no
 * path may come twice. Anything else is a FormatError.
 */
export function directoryApplier(target: string): SnapshotApplier {
  return typedFailures(untypedDirectoryApplier(target), `restoring into ${target}`);
}

function untypedDirectoryApplier(target: string): SnapshotApplier {
  const staging = stagingPathFor(target);
  let open: { rel: string; handle: fsp.FileHandle; mode: number; part: number } | null = null;
  // What each path restored so far is: parents must be directories made here.
  let made = new Map<string, TreeKey['t']>();
  let dirModes: [string, number][] = [];
  const closeOpen = async (): Promise<void> => {
    if (!open) return;
    const { handle, mode } = open;
    open = null;
    try {
      await handle.sync();
      await handle.chmod(mode);
    } finally {
      await handle.close();
    }
  };
  const check = (key: TreeKey): void => {
    const parent = path.posix.dirname(key.p);
    if (parent !== '.' && made.get(parent) !== 'd') {
      throw new FormatError(`${key.p} in directory snapshot: ${parent} is not a directory restored before it`);
    }
    if (made.has(key.p)) throw new FormatError(`${key.p} comes twice in directory snapshot`);
  };
  return {
    async begin() {
      // A fresh start: an applier is begun again when a store falls back to an older snapshot.
      made = new Map();
      dirModes = [];
      await fsp.rm(staging, { recursive: true, force: true });
      await fsp.mkdir(staging, { recursive: true });
    },
    async write(entries: DecodedEntry[]) {
      for (const entry of entries) {
        const key = parseKey(entry);
        const full = path.join(staging, key.p);
        if (key.t === 'f' && open?.rel === key.p) {
          // The next part of the file being written.
          if (key.i !== open.part + 1) throw new FormatError(`${key.p} in directory snapshot: part ${key.i} after part ${open.part}`);
          open.part = key.i;
        } else {
          await closeOpen();
          check(key);
          made.set(key.p, key.t);
          if (key.t === 'd') {
            await fsp.mkdir(full);
            dirModes.push([full, key.m]);
            continue;
          }
          if (key.t === 'l') {
            await fsp.symlink(entry.value.toString(), full);
            continue;
          }
          if ((key.i ?? 0) !== 0) throw new FormatError(`${key.p} in directory snapshot: starts at part ${key.i}`);
          // 'wx': a new file, never through or onto an existing one.
          open = { rel: key.p, handle: await fsp.open(full, 'wx', 0o600), mode: key.m, part: 0 };
        }
        const value = Buffer.isBuffer(entry.value) ? entry.value : Buffer.from(entry.value);
        await open!.handle.write(value, 0, value.length, (key.i ?? 0) * DIRECTORY_PART_SIZE);
      }
    },
    async commit() {
      await closeOpen();
      // Modes last, deepest first, so a read-only directory is still written into first; each
      // directory fsync'd, so what it holds survives a power cut once it is swapped in.
      for (const [dir, mode] of [...dirModes].reverse()) {
        await fsyncDirectory(dir); // before the chmod: a mode may take away read permission
        await fsp.chmod(dir, mode);
      }
      await fsyncDirectory(staging);
      await swapIn(target);
    },
    async abort() {
      const handle = open?.handle;
      open = null;
      if (handle) await handle.close().catch(() => {});
      await fsp.rm(staging, { recursive: true, force: true });
    },
  };
}

/** Finishes or undoes a swap a crash interrupted: afterwards `target` is a whole tree, old or new. */
export function recoverDirectory(target: string): Promise<void> {
  return recoverSwap(target);
}

/**
 * Copies a tree by hard-linking its files (free, when source and target share a filesystem;
 * right for immutable segment files), copying where linking is not possible.
 * Returns how many files were linked and copied.
 */
export async function linkDirectory(
  source: string,
  target: string,
): Promise<{
  /** Files hard-linked. */
  linked: number;
  /** Files copied because linking was not possible (another filesystem, or not permitted). */
  copied: number;
}> {
  let linked = 0;
  let copied = 0;
  const dirModes: [string, number][] = [];
  await fsp.mkdir(target, { recursive: true });
  for (const item of await walk(source)) {
    const from = path.join(source, item.rel);
    const to = path.join(target, item.rel);
    if (item.type === 'd') {
      await fsp.mkdir(to, { recursive: true });
      dirModes.push([to, item.mode]);
    } else if (item.type === 'l') await fsp.symlink(await fsp.readlink(from), to);
    else {
      try {
        await fsp.link(from, to);
        linked++;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EXDEV' && (err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
        await fsp.copyFile(from, to);
        await fsp.chmod(to, item.mode);
        copied++;
      }
    }
  }
  // Directory modes last (deepest first): exact whatever the umask, and a read-only directory
  // is filled before it becomes read-only.
  for (const [dir, mode] of dirModes.reverse()) {
    await fsyncDirectory(dir); // before the chmod: a mode may take away read permission
    await fsp.chmod(dir, mode);
  }
  await fsyncDirectory(target);
  return { linked, copied };
}
