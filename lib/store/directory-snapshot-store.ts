/**
 * DirectorySnapshotStore: the {@link SnapshotStore} on a directory — it creates, lists, verifies,
 * restores and prunes, and recovers from crashes and corruption on its own. Opened with
 * `DirectorySnapshotStore.at(dir)`; `store.open(id)` opens one snapshot's bytes.
 *
 * Layout: `<dir>/<id>.snap` (snapshot files), `<dir>/store.json` (the list, replaced
 * atomically), `<dir>/LOCK` (one process at a time), `<dir>/corrupt/` (snapshots that failed
 * verification, moved aside for inspection).
 *
 * Opening recovers: partial files that cannot be resumed are removed (resumable ones are kept
 * and reported as `pending`; creating the same id again resumes them), finished snapshot files
 * the list does not know (a crash between the rename and the list update) are adopted, and
 * entries whose file is gone (a crash in the middle of a prune) are dropped, and a temporary list
 * file a crash left before its rename is removed.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { isEntryIterable, type SnapshotApplier, type SnapshotSource } from './source-applier.js';
import { BusyError, ErrorCodes, FormatError, InvalidArgumentError, IoError, isCorruptionError, NotFoundError, SnapstreamError, wrapIoError } from '../errors.js';
import { analyzePartial } from '../snapshot/analyze-partial.js';
import { cleanPartials } from '../snapshot/clean-partials.js';
import type { EntryIterable } from '../snapshot/entry-source.js';
import { inspectSnapshot, verifySnapshot, type VerifyResult } from '../snapshot/inspect-snapshot.js';
import { writeSnapshot, type WriteSnapshotOptions } from '../snapshot/write-snapshot.js';
import type { AnalyzePartialResult } from '../snapshot/analyze-partial.js';
import { sendSnapshot, type Connect, type SendResult, type SendSnapshotOptions } from '../transfer/send-snapshot.js';
import { checkSnapshotId, snapshotIdProblem } from '../snapshot/snapshot-id.js';
import type { Duplex } from 'node:stream';
import { writeJsonAtomic } from './atomic-json.js';
import { defaultId } from './default-snapshot-id.js';
import { restoreWithFallback, verifyAllSnapshots, type StoreInternals } from './restore-with-fallback.js';
import { snapshotsToPrune, type RetentionPolicy } from './retention.js';
import { pruneAfterAdding, SnapshotsInUse } from './snapshots-in-use.js';
import { StoreLock } from './store-lock.js';
import type { CreateOptions, OpenSnapshotOptions, RestoreOptions, RestoreResult, SnapshotStore, StoredSnapshot, VerifyAllResult } from './snapshot-store-interface.js';
import { storeProblem, type StoreProblem } from './store-problem.js';

const SUFFIX = '.snap';
const LIST_FILE = 'store.json';

/** Options for {@link DirectorySnapshotStore.at}. */
export interface DirectorySnapshotStoreOptions {
  /** Options for new snapshots (codec, level, block size…). */
  write?: Pick<WriteSnapshotOptions, 'codec' | 'level' | 'blockSize' | 'syncEvery' | 'concurrency'>;
  /**
   * Applied by `prune()` without arguments, and by itself after each `create()` and each
   * snapshot received into the store (see `autoPrune`).
   */
  retention?: RetentionPolicy;
  /**
   * Apply `retention` by itself after each `create()` and after each snapshot received into the
   * store (`serverOptions()`), never removing the snapshot just added or one in use. A failure
   * there does not fail what came before it: it is reported as a `prune-failure` event. Default
   * true; `create(…, { prune: false })` skips it once.
   */
  autoPrune?: boolean;
}

/**
 * A directory of snapshots that creates, lists, verifies, restores, prunes and deletes them, and
 * recovers from crashes and corruption on its own: the {@link SnapshotStore} on disk. Open one with
 * {@link DirectorySnapshotStore.at}. Events: `created`, `deleted`, `pruned`, `restored`, `corrupt`
 * (`{ id, path, error, movedAside, cause? }`: a damaged snapshot, moved under `corrupt/` unless it
 * could not be), `partials-removed`, `prune-failure` (the error of a retention run after a create
 * or a receive, which stand).
 */
export class DirectorySnapshotStore extends EventEmitter implements SnapshotStore {
  /** Partials left by an interrupted create, which creating the same id again resumes. */
  pending: AnalyzePartialResult[] = [];
  /**
   * What opening skipped rather than fail on, each with its path and a typed error: a file whose
   * name is not a snapshot id, a directory or link under a snapshot's name, a file that is not a
   * snapshot (moved aside under `corrupt/`), an unreadable file, a malformed `store.json` (or
   * entry of it: the list is rebuilt from the files). Every good snapshot is listed anyway.
   */
  problems: StoreProblem[] = [];
  private snapshots: StoredSnapshot[] = [];
  private readonly inUse = new SnapshotsInUse();
  private closed = false;

  private constructor(
    /** The store's directory. */
    readonly dir: string,
    /** The options the store was opened with. */
    readonly options: DirectorySnapshotStoreOptions,
    private readonly lock: StoreLock,
  ) {
    super();
  }

  /**
   * Opens (creating if needed) the store in `dir`, locking it and recovering what a crash left.
   * (Named `at`, not `open`: `store.open(id)` opens a snapshot.)
   */
  static async at(dir: string, options: DirectorySnapshotStoreOptions = {}): Promise<DirectorySnapshotStore> {
    try {
      await fsp.mkdir(dir, { recursive: true });
    } catch (err) {
      throw wrapIoError(err, `creating ${dir}`);
    }
    const lock = await StoreLock.acquire(dir);
    const store = new DirectorySnapshotStore(dir, options, lock);
    try {
      await store.recover();
    } catch (err) {
      await lock.release();
      throw wrapIoError(err, `opening the store ${dir}`);
    }
    return store;
  }

  /** The store's directory (for messages). */
  get location(): string {
    return this.dir;
  }

  /** Newest first. */
  async list(): Promise<StoredSnapshot[]> {
    return [...this.snapshots];
  }

  /** The newest snapshot, or undefined when the store holds none. */
  async latest(): Promise<StoredSnapshot | undefined> {
    return this.snapshots[0];
  }

  /** The snapshot with this id, or undefined. */
  async get(id: string): Promise<StoredSnapshot | undefined> {
    return this.find(id);
  }

  private find(id: string): StoredSnapshot | undefined {
    return this.snapshots.find((s) => s.id === id);
  }

  /** The path of a snapshot's file. */
  pathOf(id: string): string {
    return path.join(this.dir, `${checkSnapshotId(id)}${SUFFIX}`);
  }

  /**
   * Writes a new snapshot from `source` (resuming a pending partial of the same id) and adds it
   * to the list, then applies the store's retention (see `autoPrune`). The id defaults to one
   * made from the metadata's index and the time.
   *
   * `source` is a {@link SnapshotSource} — its view and its `meta()` are what the snapshot holds:
   * take them in one tick, with the index they stand for — or any iterable or async iterable of
   * entries (an array, a generator), which cannot resume. A create that fails leaves its partial
   * file listed in `pending` when a later create of the same snapshot can resume it, and removes
   * it otherwise.
   */
  async create(source: SnapshotSource | EntryIterable, meta?: Record<string, unknown>, options: CreateOptions = {}): Promise<StoredSnapshot> {
    let id: string;
    let file: string;
    // An array has an entries() method too: an iterable is entries, whatever else it has.
    const iterable = isEntryIterable(source);
    const snapshotSource = iterable ? null : (source as SnapshotSource);
    // The source is ours to close once handed over, whatever happens (a database source holds
    // a view of the database open until then).
    try {
      this.checkOpen();
      // Called now, in the caller's tick: the metadata of the view the source took.
      const sourceMeta = snapshotSource?.meta?.();
      const fullMeta = { ...((await sourceMeta) ?? {}), ...(meta ?? {}) };
      // A pending partial with the same metadata is this snapshot, interrupted: resume it.
      const pending = this.pending.find((p) => JSON.stringify(p.header?.meta) === JSON.stringify(fullMeta));
      const pendingId = pending ? path.basename(pending.path).slice(0, -`${SUFFIX}.partial`.length) : undefined;
      id = checkSnapshotId(options.id ?? pendingId ?? defaultId(fullMeta, Date.now()));
      if (this.find(id)) throw new InvalidArgumentError(`a snapshot ${id} already exists`);
      // Two writers of one partial file would interleave their blocks.
      if (this.inUse.has(id)) throw new BusyError(`a snapshot ${id} is being created`);
      file = this.pathOf(id);
      this.use(id);
      try {
        await writeSnapshot(snapshotSource ? (cursor) => snapshotSource.entries(cursor) : (source as EntryIterable), file, {
          ...this.options.write,
          meta: fullMeta,
          ...(options.background !== undefined ? { background: options.background } : {}),
          ...(options.pace ? { pace: options.pace } : {}),
          ...(snapshotSource?.cursorOf ? { cursorOf: snapshotSource.cursorOf.bind(snapshotSource) } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        });
      } catch (err) {
        await this.notePartial(`${file}.partial`, err);
        throw err;
      } finally {
        this.release(id);
      }
    } finally {
      await snapshotSource?.close?.();
    }
    const stored = await describe(id, file);
    this.pending = this.pending.filter((p) => p.path !== `${file}.partial`);
    this.snapshots = sortNewestFirst([...this.snapshots, stored]);
    await this.saveList();
    this.emit('created', stored);
    if (options.prune ?? true) await this.autoPrune(id);
    return stored;
  }

  /**
   * After a failed create: its partial is listed in `pending` when it can be resumed, else
   * removed, so that the store never holds a partial it does not report.
   */
  private async notePartial(partial: string, err: unknown): Promise<void> {
    this.pending = this.pending.filter((p) => p.path !== partial);
    const exists = await fsp.access(partial).then(() => true, () => false);
    if (!exists) return; // the create failed before its first byte
    // The source changed under its view: what the partial holds may be torn, never resume it.
    const torn = err instanceof SnapstreamError && err.code === ErrorCodes.SOURCE_CHANGED;
    if (!torn) {
      try {
        const analysis = await analyzePartial(partial);
        if (analysis.resumable) {
          this.pending.push(analysis);
          return;
        }
      } catch {
        // Unreadable: nothing a later create could resume.
      }
    }
    await fsp.rm(partial, { force: true }).catch(() => {});
  }

  /** Retention by itself, after a create or a receive: never the snapshot just added; failures are an event. */
  private async autoPrune(added: string): Promise<void> {
    if (this.closed) return;
    await pruneAfterAdding(this, added);
  }

  /**
   * A snapshot file's bytes (`readSnapshot(store.open(id))` reads its entries, checked); the
   * snapshot counts as in use until the stream closes.
   */
  open(id: string, options: OpenSnapshotOptions = {}): Readable {
    this.checkOpen();
    this.mustFind(id);
    this.use(id);
    const stream = fs.createReadStream(this.pathOf(id), { start: options.start ?? 0, highWaterMark: 1024 * 1024, ...(options.signal ? { signal: options.signal } : {}) });
    stream.once('close', () => this.release(id));
    return stream;
  }

  /** Checks every byte of a snapshot; rejects with the damage found. */
  async verify(id: string, options: { signal?: AbortSignal } = {}): Promise<VerifyResult> {
    this.checkOpen();
    this.mustFind(id);
    this.use(id);
    try {
      return await verifySnapshot(this.pathOf(id), options);
    } finally {
      this.release(id);
    }
  }

  /**
   * Verifies every snapshot. Those damaged in their own bytes are moved aside (`corrupt`); those
   * that could not be checked because the environment failed are left in place (`failed`).
   * Resolves with what was found, and the problems found at opening.
   */
  async verifyAll(): Promise<VerifyAllResult> {
    this.checkOpen();
    return verifyAllSnapshots(this, this.internals);
  }

  /**
   * Restores the newest snapshot that verifies into `applier`. One that fails with a corruption
   * error (damage in its own bytes, or content the applier refuses as malformed) is aborted,
   * moved aside (event `corrupt`), and the next older one is tried. Any other failure (a codec
   * that cannot run, an I/O error, a full target disk) is thrown and the snapshot left in place:
   * an older snapshot would fail the same way, or restore older state than the caller expects.
   * Expired entries are skipped.
   * With `id`, restores that snapshot or fails: a damaged one is the corruption error (the
   * snapshot left in place), never a fall back to another.
   */
  async restore(applier: SnapshotApplier, options: RestoreOptions = {}): Promise<RestoreResult> {
    this.checkOpen();
    return restoreWithFallback(this, this.internals, applier, options);
  }

  /** What the shared restore and verify loops need: the file's path (read with pooled memory), the move aside, the in-use mark. */
  private readonly internals: StoreInternals<StoredSnapshot> = {
    bytes: (s) => this.pathOf(s.id),
    quarantine: (s, error) => this.quarantine(s.id, error),
    hold: (id) => {
      this.use(id);
      return () => this.release(id);
    },
    failure: (err, id) => systemError(err, `restoring ${id}`),
  };

  /**
   * Sends a snapshot to a snapshot server (see `sendSnapshot`; the id sent defaults to the
   * snapshot's). The snapshot counts as in use until the send ends: no retention removes it.
   */
  async send(id: string, connection: Duplex | Connect, options: Omit<SendSnapshotOptions, 'id'> & { id?: string } = {}): Promise<SendResult> {
    this.checkOpen();
    this.mustFind(id);
    this.use(id);
    try {
      return await sendSnapshot(this.pathOf(id), connection, { ...options, id: options.id ?? id });
    } finally {
      this.release(id);
    }
  }

  /** Deletes a snapshot; one in use is a BusyError. */
  async delete(id: string): Promise<void> {
    this.checkOpen();
    this.mustFind(id);
    if (this.inUse.has(id)) throw new BusyError(`snapshot ${id} is in use`);
    // The file goes first: a crash before the list is saved leaves an entry that opening drops.
    try {
      await fsp.rm(this.pathOf(id), { force: true });
    } catch (err) {
      throw wrapIoError(err, `removing ${this.pathOf(id)}`);
    }
    this.snapshots = this.snapshots.filter((s) => s.id !== id);
    await this.saveList();
    this.emit('deleted', id);
  }

  /**
   * Applies a retention policy (default: the store's). Never removes the newest snapshot, one in
   * use (being created, read, verified, restored or sent) or one of `keep`.
   */
  async prune(policy: RetentionPolicy | undefined = this.options.retention, now = Date.now(), keep: readonly string[] = []): Promise<string[]> {
    this.checkOpen();
    if (!policy) return [];
    const drop = snapshotsToPrune(this.snapshots, policy, now, new Set([...this.inUse.ids(), ...keep]));
    for (const id of drop) {
      try {
        await fsp.rm(this.pathOf(id), { force: true });
      } catch (err) {
        throw wrapIoError(err, `removing ${this.pathOf(id)}`);
      }
    }
    if (drop.length > 0) {
      this.snapshots = this.snapshots.filter((s) => !drop.includes(s.id));
      await this.saveList();
      this.emit('pruned', drop);
    }
    return drop;
  }

  /** Marks a snapshot in use (reading, restoring, sending) so it is not pruned or deleted. */
  use(id: string): void {
    this.inUse.use(id);
  }

  /** Undoes one {@link DirectorySnapshotStore.use}; once every use is released the snapshot may be pruned or deleted. */
  release(id: string): void {
    this.inUse.release(id);
  }

  /** Releases the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.lock.release();
  }

  /** Adds a finished snapshot file already in the directory (e.g. received over the network). */
  async adopt(id: string): Promise<StoredSnapshot> {
    this.checkOpen();
    const stored = await describe(id, this.pathOf(id));
    this.snapshots = sortNewestFirst([...this.snapshots.filter((s) => s.id !== id), stored]);
    await this.saveList();
    this.emit('created', stored);
    return stored;
  }

  /**
   * Options for `createSnapshotServer` that receive straight into this store: files land under
   * the store's names and are adopted (listed) before the sender hears DONE; then the store's
   * retention runs (see `autoPrune`), never removing the snapshot just received.
   */
  serverOptions(): {
    /** The store's directory. */
    dir: string;
    /** The file name a snapshot is received as: `<id>.snap`. */
    fileName: (id: string) => string;
    /** Adds a received snapshot to the store's list. */
    onInstalled: (info: { id: string }) => Promise<void>;
  } {
    return {
      dir: this.dir,
      fileName: (id) => `${id}${SUFFIX}`,
      onInstalled: async (info) => {
        await this.adopt(info.id);
        await this.autoPrune(info.id);
      },
    };
  }

  private async quarantine(id: string, error: unknown): Promise<void> {
    await this.quarantineFile(id, error);
    this.snapshots = this.snapshots.filter((s) => s.id !== id);
    // A list that cannot be saved (store.json is a directory, say) does not stop a restore
    // falling back: opening drops the entry of a file that is gone.
    await this.saveList().catch((err: unknown) => this.problems.push(storeProblem(path.join(this.dir, LIST_FILE), err, `saving ${LIST_FILE}`)));
  }

  /**
   * Reads the list, adopts finished files it does not know, drops entries whose file is gone,
   * and skips (into `problems`) whatever is not a good snapshot, so that one bad file never
   * makes the store unopenable.
   */
  private async recover(): Promise<void> {
    const problems: StoreProblem[] = [];
    const listFile = path.join(this.dir, LIST_FILE);
    const listed = await readList(listFile, problems);
    let names: string[];
    try {
      names = await fsp.readdir(this.dir);
    } catch (err) {
      throw wrapIoError(err, `listing ${this.dir}`);
    }
    // A list update a crash interrupted before its rename: the list on disk is the old one, whole.
    for (const name of names.filter((n) => n.startsWith(`.${LIST_FILE}.`) && n.endsWith('.tmp'))) {
      const file = path.join(this.dir, name);
      await fsp.rm(file, { force: true }).catch((err: unknown) => problems.push(storeProblem(file, err, `removing ${file}`)));
    }
    // Snapshot files: regular files named `<valid id>.snap`; anything else is skipped.
    const files = new Set<string>();
    for (const name of names.filter((n) => n.endsWith(SUFFIX)).sort()) {
      const id = name.slice(0, -SUFFIX.length);
      const file = path.join(this.dir, name);
      const badName = snapshotIdProblem(id);
      if (badName !== null) {
        problems.push(storeProblem(file, new InvalidArgumentError(`${file}: the name is not a snapshot id (${badName}); skipped`), 'skipping'));
        continue;
      }
      let kind: string | null;
      try {
        const stat = await fsp.lstat(file);
        kind = stat.isFile() ? null : stat.isDirectory() ? 'a directory' : stat.isSymbolicLink() ? 'a symbolic link' : 'not a regular file';
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        problems.push(storeProblem(file, err, `reading ${file}`, id));
        continue;
      }
      if (kind !== null) {
        problems.push(storeProblem(file, new IoError(`${file} is ${kind}, not a snapshot file; skipped`), 'skipping', id));
        continue;
      }
      files.add(id);
    }
    const known = listed.filter((s) => files.has(s.id));
    const adopted: StoredSnapshot[] = [];
    for (const id of files) {
      if (known.some((s) => s.id === id)) continue;
      const file = this.pathOf(id);
      try {
        adopted.push(await describe(id, file));
      } catch (err) {
        if (isCorruptionError(err)) {
          // Proven not to be a whole snapshot by its own bytes: moved aside, like a damaged one.
          const aside = await this.quarantineFile(id, err);
          problems.push(storeProblem(file, err, `adopting ${file}`, id));
          problems[problems.length - 1]!.message = `${err.message}; ${aside === null ? 'could not be moved aside' : `moved aside to ${aside}`}`;
        } else {
          // Unreadable here and now (permissions, an I/O error): left in place, not listed.
          problems.push(storeProblem(file, err, `reading ${file}`, id));
        }
      }
    }
    this.snapshots = sortNewestFirst([...known, ...adopted]);
    const report = await cleanPartials(this.dir);
    for (const p of report.kept) {
      // A resumable partial under a name that is no snapshot id cannot be resumed by create().
      const bad = snapshotIdProblem(path.basename(p.path).slice(0, -`${SUFFIX}.partial`.length));
      if (bad === null && p.path.endsWith(`${SUFFIX}.partial`)) this.pending.push(p);
      else problems.push(storeProblem(p.path, new InvalidArgumentError(`${p.path}: not the partial of a snapshot id; skipped`), 'skipping'));
    }
    for (const skipped of report.skipped) problems.push(storeProblem(skipped.path, skipped.error, `cleaning up ${skipped.path}`));
    if (report.removed.length > 0) this.emit('partials-removed', report.removed);
    if (listed.rewrite || adopted.length > 0 || known.length !== listed.length) {
      await this.saveList().catch((err: unknown) => problems.push(storeProblem(listFile, err, `saving ${listFile}`)));
    }
    this.problems = problems;
  }

  /**
   * Moves a damaged snapshot's file under `corrupt/` (or, failing that, renames it in place to
   * `<id>.snap.<time>.corrupt`) and reports it (`corrupt` event). A file that cannot be moved at
   * all (gone already, a failing disk) is reported with `movedAside: false` and the reason as
   * `cause`, where it is: whatever found the damage (a restore falling back) goes on.
   */
  private async quarantineFile(id: string, error: unknown): Promise<string | null> {
    const stamp = `${SUFFIX}.${Date.now()}`;
    const intoCorrupt = async (): Promise<string> => {
      const aside = path.join(this.dir, 'corrupt');
      await fsp.mkdir(aside, { recursive: true });
      // The store's own directory only: a symbolic link there would carry the file out of the store.
      if (!(await fsp.lstat(aside)).isDirectory()) throw new IoError(`${aside} is not a directory`);
      const target = path.join(aside, `${id}${stamp}`);
      await fsp.rename(this.pathOf(id), target);
      return target;
    };
    // No corrupt/ to be had: renamed where it is, to a name opening never adopts again.
    const inPlace = async (): Promise<string> => {
      const target = path.join(this.dir, `${id}${stamp}.corrupt`);
      await fsp.rename(this.pathOf(id), target);
      return target;
    };
    try {
      const target = await intoCorrupt().catch(inPlace);
      this.emit('corrupt', { id, path: target, error, movedAside: true });
      return target;
    } catch (err) {
      this.emit('corrupt', { id, path: this.pathOf(id), error, movedAside: false, cause: wrapIoError(err, `moving ${this.pathOf(id)} aside`) });
      return null;
    }
  }

  /**
   * Saves the list, one save at a time (create, adopt, prune and delete may overlap); each save
   * writes the list as it is when its turn comes.
   */
  private saveList(): Promise<void> {
    const save = this.saving.then(() => writeJsonAtomic(path.join(this.dir, LIST_FILE), { version: 1, snapshots: this.snapshots }));
    this.saving = save.catch(() => {});
    return save;
  }

  private saving: Promise<void> = Promise.resolve();

  private mustFind(id: string): StoredSnapshot {
    const s = this.find(id);
    if (!s) throw new NotFoundError(`no snapshot ${id} in ${this.dir}`);
    return s;
  }

  private checkOpen(): void {
    if (this.closed) throw new InvalidArgumentError('the store is closed');
  }
}

async function describe(id: string, file: string): Promise<StoredSnapshot> {
  const info = await inspectSnapshot(file);
  const meta = info.header.meta;
  return {
    id,
    ...(typeof meta.index === 'number' ? { index: meta.index } : {}),
    ...(typeof meta.term === 'number' ? { term: meta.term } : {}),
    createdAt: info.header.createdAt,
    size: info.fileSize,
    entries: info.entries,
    rawBytes: info.rawBytes,
    codec: info.header.codec,
    meta,
  };
}

/** A system error (it has a `syscall`) from a file operation, as a SnapstreamError; others pass. */
function systemError(err: unknown, what: string): unknown {
  return typeof (err as NodeJS.ErrnoException | null)?.syscall === 'string' ? wrapIoError(err, what) : err;
}

function sortNewestFirst(list: StoredSnapshot[]): StoredSnapshot[] {
  return list.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

const CODECS = new Set(['zstd', 'lz4', 'none']);
const count = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;

/** Why a `store.json` entry is not a snapshot description, or null if it is one. */
function entryProblem(entry: unknown): string | null {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return 'is not an object';
  const e = entry as Partial<Record<keyof StoredSnapshot, unknown>>;
  const badId = snapshotIdProblem(e.id);
  if (badId !== null) return `has a bad id (${badId})`;
  if (!Number.isFinite(e.createdAt)) return 'has no creation time';
  if (!count(e.size) || !count(e.entries) || !count(e.rawBytes)) return 'has no valid size, entries or raw bytes';
  if (typeof e.codec !== 'string' || !CODECS.has(e.codec)) return 'has no valid codec';
  if (typeof e.meta !== 'object' || e.meta === null || Array.isArray(e.meta)) return 'has no metadata object';
  if ((e.index !== undefined && typeof e.index !== 'number') || (e.term !== undefined && typeof e.term !== 'number')) return 'has a bad index or term';
  return null;
}

/**
 * The valid entries of the list file. An unreadable or malformed list, or malformed entries, are
 * reported in `problems` and left out (the files they describe are adopted again from their own
 * headers); `rewrite` says the list should be saved anew.
 */
async function readList(file: string, problems: StoreProblem[]): Promise<StoredSnapshot[] & { rewrite?: boolean }> {
  const found: StoredSnapshot[] & { rewrite?: boolean } = [];
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return found;
    problems.push(storeProblem(file, err, `reading ${file} (the list is rebuilt from the snapshot files)`));
    found.rewrite = true;
    return found;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    problems.push(storeProblem(file, new FormatError(`${file} is not JSON; the list is rebuilt from the snapshot files`, { cause: err }), 'reading'));
    found.rewrite = true;
    return found;
  }
  const entries = (parsed as { snapshots?: unknown } | null)?.snapshots;
  if (!Array.isArray(entries)) {
    problems.push(storeProblem(file, new FormatError(`${file} holds no list of snapshots; the list is rebuilt from the snapshot files`), 'reading'));
    found.rewrite = true;
    return found;
  }
  const seen = new Set<string>();
  entries.forEach((entry: unknown, i) => {
    const why = entryProblem(entry) ?? (seen.has((entry as StoredSnapshot).id) ? 'repeats an id' : null);
    if (why === null) {
      seen.add((entry as StoredSnapshot).id);
      found.push(entry as StoredSnapshot);
    } else {
      problems.push(storeProblem(file, new FormatError(`${file}: entry ${i} ${why}; skipped (its file, if any, is adopted from its own header)`), 'reading'));
      found.rewrite = true;
    }
  });
  return found;
}
