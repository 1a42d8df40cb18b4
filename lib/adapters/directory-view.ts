/**
 * A point-in-time view of a tree of append-only files (log segments, index files), taken in one
 * synchronous walk, so in the caller's tick: every file is opened and its length fixed then,
 * every symlink's target read then. Reads go through the descriptors, so appends made later are
 * left out and a file deleted or renamed later (segment retention, compaction renaming a new
 * file over an old one) is still read whole, as it was.
 *
 * Append-only is checked, as far as size and mtime can: a file shorter than its fixed length, or
 * with another mtime at the same length, was rewritten in place, and reading it fails with a
 * SourceChangedError instead of giving a torn copy. (A rewrite that also grows the file looks
 * like an append; and Linux stamps mtimes with a clock of a few ms, so two writes that close
 * together may share one.)
 *
 * One descriptor a file, held until the file has been read (or the view closed): a tree of more
 * than `maxOpenFiles` files is refused up front (InvalidArgumentError) rather than failing half
 * way with EMFILE; raise it together with the process's limit (`ulimit -n`), or take the view of
 * a hard-linked copy (`linkDirectory`) made while the application holds its writes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, IoError, SourceChangedError, wrapIoError } from '../errors.js';

/** Default for `maxOpenFiles`. */
export const DEFAULT_MAX_OPEN_FILES = 4096;

/** One item of a view, in walk order (sorted by path, a directory before what it holds). */
export interface ViewItem {
  type: 'd' | 'f' | 'l';
  rel: string;
  mode: number;
  /** Files: the length fixed by the view. */
  size: number;
  /** Files: the open descriptor (-1 once closed). */
  fd: number;
  /** Files: mtime (ns) when the view was taken. */
  mtimeNs: bigint;
  /** Symlinks: the target. */
  target: string;
}

/** A tree as of one moment; {@link DirectoryView.close} releases its descriptors. */
export class DirectoryView {
  readonly items: ViewItem[];
  private open = true;

  constructor(readonly root: string, maxOpenFiles = DEFAULT_MAX_OPEN_FILES) {
    const items: ViewItem[] = [];
    try {
      walkSync(root, '', items, { max: maxOpenFiles, open: 0 });
    } catch (err) {
      closeAll(items);
      throw err;
    }
    this.items = items;
  }

  /** True until closed. */
  get isOpen(): boolean {
    return this.open;
  }

  /** Files in the view and their total length. */
  totals(): { files: number; bytes: number } {
    let files = 0;
    let bytes = 0;
    for (const item of this.items) {
      if (item.type !== 'f') continue;
      files++;
      bytes += item.size;
    }
    return { files, bytes };
  }

  /**
   * Checks that a file is still the one the view fixed, grown at most (appends): shorter, or
   * with another mtime at the same length, is a SourceChangedError.
   */
  check(item: ViewItem): void {
    let st: fs.BigIntStats;
    try {
      st = fs.fstatSync(item.fd, { bigint: true });
    } catch (err) {
      throw wrapIoError(err, `checking ${path.join(this.root, item.rel)}`);
    }
    const size = Number(st.size);
    if (size < item.size) {
      throw new SourceChangedError(`${path.join(this.root, item.rel)} shrank from ${item.size} to ${size} bytes under the snapshot's view: not append-only`, {
        expected: item.size,
        actual: size,
      });
    }
    if (size === item.size && st.mtimeNs !== item.mtimeNs) {
      throw new SourceChangedError(`${path.join(this.root, item.rel)} was rewritten in place under the snapshot's view (same length, new mtime): not append-only`);
    }
  }

  /** Closes one file's descriptor (it has been read). */
  release(item: ViewItem): void {
    if (item.fd < 0) return;
    const fd = item.fd;
    item.fd = -1;
    try {
      fs.closeSync(fd);
    } catch {
      // Closing a read-only descriptor has nothing to lose.
    }
  }

  /** Closes every descriptor still open. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    closeAll(this.items);
  }
}

function closeAll(items: ViewItem[]): void {
  for (const item of items) {
    if (item.fd < 0) continue;
    try {
      fs.closeSync(item.fd);
    } catch {
      // As above.
    }
    item.fd = -1;
  }
}

function walkSync(root: string, rel: string, out: ViewItem[], fds: { max: number; open: number }): void {
  const dir = path.join(root, rel);
  let names: string[];
  try {
    names = fs.readdirSync(dir).sort();
  } catch (err) {
    throw wrapIoError(err, `listing ${dir}`);
  }
  for (const name of names) {
    const relPath = rel ? `${rel}/${name}` : name;
    const full = path.join(root, relPath);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(full);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // gone before the view: not in it
      throw wrapIoError(err, `reading ${full}`);
    }
    const mode = st.mode & 0o7777;
    if (st.isDirectory()) {
      out.push({ type: 'd', rel: relPath, mode, size: 0, fd: -1, mtimeNs: 0n, target: '' });
      walkSync(root, relPath, out, fds);
    } else if (st.isSymbolicLink()) {
      let target: string;
      try {
        target = fs.readlinkSync(full);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw wrapIoError(err, `reading the link ${full}`);
      }
      out.push({ type: 'l', rel: relPath, mode, size: 0, fd: -1, mtimeNs: 0n, target });
    } else if (st.isFile()) {
      if (fds.open >= fds.max) {
        throw new InvalidArgumentError(
          `${root} holds more than ${fds.max} files, each held open by the snapshot's view: raise maxOpenFiles (and ulimit -n), or snapshot a hard-linked copy`,
        );
      }
      let fd: number;
      try {
        // O_NOFOLLOW: the file lstat saw, never what a symlink planted since points at.
        fd = fs.openSync(full, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') continue;
        if (code === 'EMFILE' || code === 'ENFILE') {
          throw new IoError(`too many open files taking the view of ${root}: raise the limit (ulimit -n) or lower maxOpenFiles`, { cause: err });
        }
        throw wrapIoError(err, `opening ${full}`);
      }
      const item: ViewItem = { type: 'f', rel: relPath, mode, size: 0, fd, mtimeNs: 0n, target: '' };
      out.push(item);
      fds.open++;
      let fst: fs.BigIntStats;
      try {
        fst = fs.fstatSync(fd, { bigint: true });
      } catch (err) {
        throw wrapIoError(err, `reading ${full}`);
      }
      item.size = Number(fst.size);
      item.mtimeNs = fst.mtimeNs;
      item.mode = Number(fst.mode) & 0o7777;
    }
  }
}

/** Views whose source was dropped unread and unclosed: their descriptors are closed. */
