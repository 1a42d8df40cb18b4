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

/** Frames read ahead at most, and their bytes at most. */
const READ_AHEAD_FRAMES = 3;
const READ_AHEAD_BYTES = 16 * 1024 * 1024;

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
  /** Reads started ahead of being asked for, oldest first. */
  private readonly ahead = new Map<BaseFrame, Promise<Buffer | null>>();
  private aheadBytes = 0;
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
   * CRC32 it was asked for, once, as it writes them, and forgets the frame if they fail.
   */
  async read(digest: string, frame: BaseFrame): Promise<Buffer | null> {
    let pending = this.ahead.get(frame);
    if (pending) {
      this.ahead.delete(frame);
      this.aheadBytes -= frame.length;
    } else pending = this.readFrame(frame);
    // The next frames of the same base are read while this one is checked and written; reads
    // ahead of another run (the copies went elsewhere) are dropped.
    const wanted = new Set<BaseFrame>();
    for (let f = frame.next, n = 0; f && n < READ_AHEAD_FRAMES; f = f.next, n++) wanted.add(f);
    for (const [f, read] of this.ahead) {
      if (wanted.has(f)) continue;
      this.ahead.delete(f);
      this.aheadBytes -= f.length;
      void read.then((b) => b && recycleBlock(b.buffer));
    }
    for (const f of wanted) {
      if (this.ahead.has(f)) continue;
      if (this.aheadBytes + f.length > READ_AHEAD_BYTES) break;
      this.ahead.set(f, this.readFrame(f));
      this.aheadBytes += f.length;
    }
    const bytes = await pending;
    if (!bytes) this.forget(digest);
    return bytes;
  }

  private async readFrame(frame: BaseFrame): Promise<Buffer | null> {
    let opening = this.handles.get(frame.path);
    if (!opening) {
      opening = fsp.open(frame.path, 'r').catch(() => null);
      this.handles.set(frame.path, opening);
    }
    const handle = await opening;
    if (!handle) return null;
    const buf = allocChunk(frame.length);
    const filled = await readFully(handle, buf, frame.offset).catch(() => -1);
    if (filled !== frame.length) {
      recycleBlock(buf.buffer);
      return null;
    }
    return buf;
  }

  /** Closes the base files opened for reads. */
  async close(): Promise<void> {
    const ahead = [...this.ahead.values()];
    this.ahead.clear();
    this.aheadBytes = 0;
    await Promise.all(ahead);
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
