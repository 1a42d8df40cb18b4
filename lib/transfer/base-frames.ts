/**
 * The frames a receiver already holds: an index from frame digest to a place in one of its
 * snapshot files (the bases), built from their block headers, and reads of those frames that
 * are checked before use. Bounded whatever the peer says: at most `maxFiles` bases and
 * `maxFrames` frames are indexed, all from the receiver's own disk.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { recycleBlock } from '../format/block-buffers.js';
import { allocChunk } from './chunk-memory.js';
import { readFully } from '../sink/read-fully.js';
import { readDataFrames } from './data-frames.js';

/** Where a frame the receiver holds lies. */
export interface BaseFrame {
  /** The base file. */
  path: string;
  /** File offset of the data frame. */
  offset: number;
  /** Bytes in it. */
  length: number;
  /** Its CRC32, as its block header says. */
  crc: number;
  /** The frame after it in the same file, if indexed: read ahead, as copies mostly follow the base's order. */
  next?: BaseFrame;
}

/**
 * Frames are read in runs: a frame and those after it in the same base (the block headers
 * between them read along and skipped), up to RUN_BYTES in one read, and the next run read
 * while this one is checked and written. A read per frame (2,000 of them for a 1 GiB
 * snapshot) cost a round trip through libuv's thread pool each, more than the copy itself.
 */
const RUN_BYTES = 4 * 1024 * 1024;
/** The most bytes between two frames of one run (a block header lies between them). */
const RUN_GAP = 64 * 1024;

/** One read of consecutive frames of a base. */
interface Run {
  path: string;
  /** File offset of the first byte read. */
  start: number;
  /** Its frames, in file order. */
  frames: BaseFrame[];
  /** The bytes, once read (null: the base could not be read as indexed). */
  bytes: Promise<Buffer | null>;
  /** Frames of it handed out and not yet released. */
  users: number;
  /** Frames of it not yet asked for (they may still be). */
  waiting: number;
  /** The run read ahead after it. */
  following?: Run;
}

/** Limits of a {@link BaseFrames} index. */
export interface BaseFramesOptions {
  /** Most base files indexed (the newest first). Default 4. */
  maxFiles?: number;
  /** Most frames indexed in all. Default 1,048,576. */
  maxFrames?: number;
}

/** Names that are never bases: partial files and temporary files. */
const NOT_A_BASE = /\.(partial|tmp)$|^\./;

/**
 * Index of the frames in a receiver's base files, by digest, and reads of them for one
 * connection. The index itself can be shared by several connections ({@link BaseFrames.share}):
 * each has its own open files and reads ahead.
 */
export class BaseFrames {
  private readonly byDigest: Map<string, BaseFrame>;
  private readonly handles = new Map<string, Promise<fsp.FileHandle | null>>();
  /** The run each frame read (or being read) and not yet asked for lies in. */
  private readonly runOf = new Map<BaseFrame, Run>();
  /** The run each frame's bytes handed out lie in, until released. */
  private readonly lent = new WeakMap<Buffer, Run>();
  /** The base files indexed. */
  readonly files: string[];
  /**
   * What the index was built from: the path, size, inode, modification and change times of every
   * candidate (see {@link BaseFrames.stampOf}). While the candidates' stamp is the same, so are
   * the files, and the index may be used again.
   */
  readonly stamp: string;

  private constructor(byDigest: Map<string, BaseFrame>, files: string[], stamp: string) {
    this.byDigest = byDigest;
    this.files = files;
    this.stamp = stamp;
  }

  /**
   * Indexes the snapshot files among `candidates` (paths; those that are not whole snapshot
   * files are passed over), newest first, within the limits.
   */
  static async build(candidates: string[], options: BaseFramesOptions = {}): Promise<BaseFrames> {
    const maxFiles = options.maxFiles ?? 4;
    let room = options.maxFrames ?? 1 << 20;
    const dated = await statCandidates(candidates);
    const index = new BaseFrames(new Map(), [], stampOf(dated));
    dated.sort((a, b) => b.mtime - a.mtime);
    for (const { file, size } of dated) {
      if (index.files.length >= maxFiles || room <= 0) break;
      const handle = await fsp.open(file, 'r').catch(() => null);
      if (!handle) continue;
      try {
        const frames = await readDataFrames(handle, size, { maxFrames: room });
        if (!frames || frames.length === 0) continue;
        index.files.push(file);
        room -= frames.length;
        let previous: BaseFrame | undefined;
        for (const f of frames) {
          const key = f.digest.toString('hex');
          const frame: BaseFrame = { path: file, offset: f.offset, length: f.length, crc: f.crc };
          if (previous) previous.next = frame;
          previous = frame;
          if (!index.byDigest.has(key)) index.byDigest.set(key, frame);
        }
      } finally {
        await handle.close();
      }
    }
    return index;
  }

  /**
   * The stamp (see {@link BaseFrames.stamp}) the candidates have now: an index built from
   * candidates of the same stamp indexes the same bytes.
   */
  static async stampOf(candidates: string[]): Promise<string> {
    return stampOf(await statCandidates(candidates));
  }

  /**
   * The same index for another connection, with its own open files and reads ahead. A frame
   * either forgets (found damaged) is forgotten by both.
   */
  share(): BaseFrames {
    return new BaseFrames(this.byDigest, this.files, this.stamp);
  }

  /** The snapshot files in `dir` that may serve as bases (every regular file but partials). */
  static async candidatesIn(dir: string): Promise<string[]> {
    const names = await fsp.readdir(dir).catch(() => [] as string[]);
    return names.filter((n) => !NOT_A_BASE.test(n)).map((n) => path.join(dir, n));
  }

  /** Frames indexed. */
  get size(): number {
    return this.byDigest.size;
  }

  /** Where the frame with this digest (hex) lies, if the receiver holds it. */
  find(digest: string): BaseFrame | undefined {
    return this.byDigest.get(digest);
  }

  /** Drops a frame found damaged: it is not offered or used again. */
  forget(digest: string): void {
    this.byDigest.delete(digest);
  }

  /**
   * The frame's bytes, or null if they cannot be had as they were indexed (the base vanished or
   * shrank: then the frame is forgotten). Not checked here: the caller checks them against the
   * CRC32 it was asked for, once, as it writes them, and forgets the frame if they fail. Give
   * them back with {@link BaseFrames.release} once written (or refused).
   */
  async read(digest: string, frame: BaseFrame): Promise<Buffer | null> {
    const run = this.runOf.get(frame) ?? this.startRun(frame);
    this.runOf.delete(frame);
    run.waiting--;
    run.users++;
    // The next run is read while this one is checked and written.
    const last = run.frames[run.frames.length - 1]!;
    if (!run.following && last.next && !this.runOf.has(last.next)) run.following = this.startRun(last.next);
    // Copies go forward: what was read for frames of other runs is dropped (at most two runs are held ahead).
    for (const [f, r] of this.runOf) if (r !== run && r !== run.following) this.unwait(f, r);
    const bytes = await run.bytes;
    const at = frame.offset - run.start;
    // A base that shrank since it was indexed: the frames past its end cannot be had.
    if (!bytes || at + frame.length > bytes.length) {
      run.users--;
      this.recycleIfDone(run);
      this.forget(digest);
      return null;
    }
    const out = bytes.subarray(at, at + frame.length);
    this.lent.set(out, run);
    return out;
  }

  /** Gives back bytes {@link BaseFrames.read} handed out: their memory is reused once no frame of their read is held. */
  release(bytes: Buffer): void {
    const run = this.lent.get(bytes);
    if (!run) return;
    this.lent.delete(bytes);
    run.users--;
    this.recycleIfDone(run);
  }

  /** Reads `frame` and the frames after it in its base, within RUN_BYTES. */
  private startRun(frame: BaseFrame): Run {
    const frames = [frame];
    let end = frame.offset + frame.length;
    for (let f = frame.next; f && f.path === frame.path && f.offset >= end && f.offset - end <= RUN_GAP && f.offset + f.length - frame.offset <= RUN_BYTES && !this.runOf.has(f); f = f.next) {
      frames.push(f);
      end = f.offset + f.length;
    }
    const run: Run = { path: frame.path, start: frame.offset, frames, bytes: this.readRange(frame.path, frame.offset, end - frame.offset), users: 0, waiting: frames.length };
    for (const f of frames) this.runOf.set(f, run);
    return run;
  }

  /** `frame` of `run` will not be asked for after all. */
  private unwait(frame: BaseFrame, run: Run): void {
    this.runOf.delete(frame);
    run.waiting--;
    this.recycleIfDone(run);
  }

  private recycleIfDone(run: Run): void {
    if (run.users > 0 || run.waiting > 0) return;
    void run.bytes.then((b) => b && recycleBlock(b.buffer));
  }

  private async readRange(file: string, offset: number, length: number): Promise<Buffer | null> {
    let opening = this.handles.get(file);
    if (!opening) {
      opening = fsp.open(file, 'r').catch(() => null);
      this.handles.set(file, opening);
    }
    const handle = await opening;
    if (!handle) return null;
    const buf = allocChunk(length);
    const filled = await readFully(handle, buf, offset).catch(() => -1);
    if (filled < 0) {
      recycleBlock(buf.buffer);
      return null;
    }
    // Short if the base shrank: the frames that lie whole in what was read are still good.
    return buf.subarray(0, filled);
  }

  /** Closes the base files opened for reads. */
  async close(): Promise<void> {
    const runs = new Set(this.runOf.values());
    for (const [f, r] of this.runOf) this.unwait(f, r);
    await Promise.all([...runs].map((r) => r.bytes));
    const handles = [...this.handles.values()];
    this.handles.clear();
    for (const h of handles) await (await h)?.close().catch(() => {});
  }
}

interface Candidate {
  file: string;
  size: number;
  mtime: number;
  /** Inode, modification and change times (ns): any write, rename or copy over the file changes one. */
  identity: string;
}

/** The candidates that are regular files, with what identifies their bytes. */
async function statCandidates(candidates: string[]): Promise<Candidate[]> {
  const dated: Candidate[] = [];
  for (const file of candidates) {
    const stat = await fsp.stat(file, { bigint: true }).catch(() => null);
    if (stat?.isFile()) dated.push({ file, size: Number(stat.size), mtime: Number(stat.mtimeMs), identity: `${stat.ino}:${stat.mtimeNs}:${stat.ctimeNs}` });
  }
  return dated;
}

function stampOf(dated: Candidate[]): string {
  return dated
    .map((c) => `${c.file}\0${c.size}\0${c.identity}`)
    .sort()
    .join('\n');
}
