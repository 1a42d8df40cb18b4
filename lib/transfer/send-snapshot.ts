/**
 * sendSnapshot: ships a file to a snapshot server over any duplex stream, the way a Raft leader
 * installs a snapshot on a follower, and never starts over.
 *
 * Handshake (docs/PROTOCOL.md): HELLO → CHALLENGE → AUTH → ACCEPT with the offset the receiver
 * already holds. Chunks then flow under a window of unacknowledged chunks; acknowledgements
 * carry the receiver's offset; a NACK (a chunk that failed its CRC on the way) rewinds the send
 * to the offset it names. The end frame carries the length and CRC32 of the whole file, and
 * DONE comes back only once the receiver has fsync'd and renamed it. When `connection` is a
 * function, a dropped connection is re-opened and the transfer resumes from the receiver's
 * offset: at most one window is sent twice.
 */
import fsp from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AuthError,
  CancelledError,
  ErrorCodes,
  type ErrorCode,
  errorForCode,
  InvalidArgumentError,
  IoError,
  NetworkError,
  ProtocolError,
  RefusedError,
  SnapstreamError,
  TimeoutError,
  wrapIoError,
} from '../errors.js';
import { CHUNK_DATA, encodeChunkHeader, endFrame, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from '../format/chunk-frame.js';
import { CHUNK_PIECE, chunkPieces, recycleBlock } from '../format/block-buffers.js';
import { crc32, crc32Combine } from '../format/crc32.js';
import { PrefixCrcs } from './prefix-crcs.js';
import { checkChunkSize } from '../streams/chunker.js';
import { readFully } from '../sink/read-fully.js';
import { CachedReads } from '../sink/cached-reads.js';
import { authProof, newNonce, proofMatches, type Secret } from './auth.js';
import { checkSnapshotId } from '../snapshot/snapshot-id.js';
import { BASE_PROTOCOL_VERSION, MAX_OFFER_FRAMES, PROTOCOL_VERSION } from './wire.js';
import { readDataFrames, type DataFrame } from './data-frames.js';
import { WireConnection } from './wire-connection.js';

/** Opens a new connection to the receiver (a TCP, TLS or Unix socket, any duplex); called again after a drop. */
export type Connect = () => Duplex | Promise<Duplex>;

/** Most unacknowledged data in flight, whatever the chunk size. */
const WINDOW_BYTES = 16 * 1024 * 1024;
/** Chunks no longer than this are read in place while the file's pages are cached. */
const SMALL_READ = 64 * 1024;
/** COPY messages (no data) in flight beyond the window of chunks. */
const MAX_COPIES_IN_FLIGHT = 64;
/** Most credit a rate-limited sender saves up while it sends no data (ms at the limit). */
const RATE_BURST_MS = 20;

/** Reported to {@link SendSnapshotOptions.onProgress} as the receiver acknowledges chunks. */
export interface TransferProgress {
  /** Bytes the receiver has acknowledged. */
  bytes: number;
  /** Size of the file. */
  total: number;
  /** Acknowledged bytes per second over the transfer so far. */
  rate: number;
  /** Seconds left at that rate. */
  eta: number;
  /** Of `bytes`, those the receiver took from frames it already held (a delta transfer): not sent. */
  copied: number;
}

/** Options of {@link sendSnapshot}. */
export interface SendSnapshotOptions {
  /** The name the receiver stores the snapshot under. */
  id: string;
  /** Shared secret for the challenge–response; the server decides whether it is required. */
  secret?: Secret;
  /** User metadata sent with the handshake. */
  meta?: Record<string, unknown>;
  /** First chunk size (4–16 MiB); later chunks adapt to the link's measured throughput. Default 4 MiB. */
  chunkSize?: number;
  /** Keep the chunk size fixed instead of adapting it. */
  fixedChunkSize?: boolean;
  /** Unacknowledged chunks in flight. Default 4. */
  window?: number;
  /** Milliseconds to wait for any answer. Default 30 s. */
  idleTimeoutMs?: number;
  /**
   * When `connection` is a function: connection attempts in a row that may fail without the
   * receiver getting any further (an attempt that moved the transfer on starts the count
   * again, so a long transfer survives any number of drops as long as each one gains ground).
   * Default 5.
   */
  retries?: number;
  /**
   * Send no faster than this, in bytes per second: each chunk is held back until it and the data
   * before it would have gone out at this rate. A time of sending nothing (a delta transfer's
   * copied frames, a slow disk) saves up at most 20 ms of credit, so the data after it is paced too.
   */
  rateLimit?: number;
  /**
   * Aborting it cancels the transfer (the receiver is told, and keeps its partial) and rejects
   * with SNAP_ERR_CANCELLED, the abort's reason as `cause`.
   */
  signal?: AbortSignal;
  /** Called each time the receiver acknowledges data. */
  onProgress?: (progress: TransferProgress) => void;
  /**
   * Offer a delta when the receiver speaks protocol version 2: the receiver says which of the
   * file's data frames it already holds (in snapshots of its own), and only the others are sent.
   * Default true; false sends the whole file, as version 1 does.
   */
  delta?: boolean;
  /**
   * The highest protocol version to speak (1 or 2). Default 2 (delta transfers). 1 speaks
   * exactly as a build without delta transfers does.
   */
  protocolVersion?: number;
}

/** What {@link sendSnapshot} sent. */
export interface SendResult {
  /** The name the receiver stored the snapshot under. */
  id: string;
  /** Size of the file. */
  bytes: number;
  /** CRC32 of the whole file, as the receiver checked it. */
  crc: number;
  /** Connections used (1 unless one dropped). */
  connections: number;
  /** The offset the receiver already held when the transfer (first) started. */
  resumedFrom: number;
  /** For each reconnect, the offset the receiver held: where sending resumed. */
  resumes: number[];
  /** Data bytes put on the wire. */
  sentBytes: number;
  /** Data bytes sent more than once (after a NACK or a drop). */
  resentBytes: number;
  /**
   * File bytes read only to carry the whole-file CRC over a resume: from the nearest chunk
   * boundary this send has passed to the resume offset (0 when the receiver resumes at one).
   */
  rereadBytes: number;
  /** Chunks the receiver reported damaged in transit. */
  nacks: number;
  /** Whether the receiver took part of the file from frames it already held (protocol version 2). */
  delta: boolean;
  /** File bytes the receiver took from its own frames instead of the wire. */
  copiedBytes: number;
  /** Data frames the receiver said it held but could not use (damaged or gone): sent instead. */
  refetchedFrames: number;
  /** All bytes on the wire, both ways, over every connection: data, metadata and messages. */
  wireBytes: number;
}

/**
 * Refusals the receiver said may pass (it still winds down an earlier connection, say), and
 * cancels a new connection cures (its whole-file CRC failed and it discarded the partial: the
 * file is sent again from the start).
 */
const transientRefusals = new WeakSet<Error>();

/** Thrown inside an attempt when a reconnect could help. */
function retryable(err: unknown): boolean {
  return (
    err instanceof NetworkError ||
    err instanceof ProtocolError ||
    err instanceof TimeoutError ||
    (err instanceof SnapstreamError && transientRefusals.has(err))
  );
}

/**
 * Sends the file at `source` to a snapshot server over `connection`: a duplex stream, or a
 * function that opens one (then a dropped connection is re-opened and the transfer resumes from
 * the receiver's offset). Resolves once the receiver has verified and installed the file.
 */
export async function sendSnapshot(source: string, connection: Duplex | Connect, options: SendSnapshotOptions): Promise<SendResult> {
  // A stream handed over directly is ours from here on. Until the protocol starts on it, an
  // error it meets (a refused connection, an untrusted certificate) must fail this call, not
  // go unhandled and crash the process; and if this call fails first, the stream is closed.
  const direct = typeof connection === 'function' ? null : connection;
  const ignore = (): void => {}; // the error is found again through `stream.errored`
  direct?.on('error', ignore);
  try {
    return await send(source, connection, options);
  } catch (err) {
    direct?.destroy();
    // However far it got, an aborted send is a cancelled one, with the abort's reason as cause.
    const signal = options?.signal;
    if (signal?.aborted) throw new CancelledError('the transfer was cancelled', { cause: signal.reason });
    throw err;
  } finally {
    direct?.off('error', ignore);
  }
}

async function send(source: string, connection: Duplex | Connect, options: SendSnapshotOptions): Promise<SendResult> {
  const id = checkSnapshotId(options.id);
  if (typeof source !== 'string') throw new InvalidArgumentError('source must be the path of the file to send');
  let file: fsp.FileHandle;
  try {
    file = await fsp.open(source, 'r');
  } catch (err) {
    throw wrapIoError(err, `opening ${source}`);
  }
  try {
    const size = (await file.stat()).size;
    const sender = new Sender(file, size, id, options);
    const connect: Connect = typeof connection === 'function' ? connection : oneShot(connection);
    const attempts = typeof connection === 'function' ? Math.max(1, options.retries ?? 5) : 1;
    // Failed attempts in a row without progress: the retry budget and the backoff both start
    // again after an attempt that got the receiver further.
    let failures = 0;
    for (;;) {
      options.signal?.throwIfAborted();
      try {
        return await sender.attempt(await connect());
      } catch (err) {
        failures = sender.progressed ? 1 : failures + 1;
        if (!retryable(err) || failures >= attempts || options.signal?.aborted) throw err;
        await sleep(Math.min(2000, 50 * 2 ** failures), undefined, options.signal ? { signal: options.signal } : {});
      }
    }
  } finally {
    await file.close();
  }
}

function oneShot(stream: Duplex): Connect {
  let used = false;
  return () => {
    if (used) throw new NetworkError('the connection is gone and cannot be re-opened');
    used = true;
    return stream;
  };
}

class Sender {
  private readonly idle: number;
  private readonly window: number;
  private chunkSize: number;
  private connections = 0;
  private resumedFrom = -1;
  private readonly resumes: number[] = [];
  private sentBytes = 0;
  private resentBytes = 0;
  private rereadBytes = 0;
  /** Prefix CRCs at the chunk boundaries passed, kept across reconnects. */
  private readonly prefixes = new PrefixCrcs();
  private nacks = 0;
  private highest = 0; // furthest offset ever sent
  private copiedBytes = 0;
  private refetched = 0;
  private wireBytes = 0;
  private deltaUsed = false;
  /**
   * The file's data frames (null: not a snapshot file, no delta), read from its block headers
   * while the first handshake is under way: they are needed once the receiver agrees version 2.
   */
  private frames: Promise<DataFrame[] | null> | undefined;
  private furthest = -1; // furthest offset the receiver ever reported holding
  private reported = -1; // bytes in the last progress report
  /** Whether the last attempt got the receiver further than any before it. */
  progressed = false;
  /** CRC32 of the whole file, once computed (for the end frame). */
  private fileCrc: number | undefined;
  private rateStart = 0;
  /**
   * The rate limit's clock (ms): when the data sent so far on this connection has gone out at
   * the limit. It never lags the present by more than RATE_BURST_MS.
   */
  private rateClock = 0;
  /** Small reads of the file, in place while its pages are cached. */
  private readonly cached: CachedReads;

  constructor(
    private readonly file: fsp.FileHandle,
    private readonly size: number,
    private readonly id: string,
    private readonly options: SendSnapshotOptions,
  ) {
    this.idle = options.idleTimeoutMs ?? 30_000;
    this.window = options.window ?? 4;
    if (!Number.isInteger(this.window) || this.window < 1) throw new InvalidArgumentError('window must be a positive integer');
    this.chunkSize = checkChunkSize(options.chunkSize ?? MIN_CHUNK_SIZE);
    this.cached = new CachedReads(file);
  }

  async attempt(stream: Duplex): Promise<SendResult> {
    this.connections++;
    this.progressed = false;
    const conn = new WireConnection(stream);
    const onAbort = (): void => {
      void conn.send('CANCEL', { reason: 'aborted by the sender' }).catch(() => {});
      conn.destroy();
    };
    this.options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (this.options.delta !== false && (this.options.protocolVersion ?? PROTOCOL_VERSION) >= 2) {
        this.frames ??= readDataFrames(this.file, this.size).catch(() => null);
      }
      const { offset, version } = await this.handshake(conn);
      this.reached(offset);
      if (this.resumedFrom < 0) this.resumedFrom = offset;
      else this.resumes.push(offset);
      const copies = version >= 2 && this.options.delta !== false ? await this.negotiate(conn, offset) : [];
      const result = await this.transfer(conn, offset, copies);
      conn.close();
      return result;
    } catch (err) {
      conn.destroy();
      throw err;
    } finally {
      this.wireBytes += conn.bytesIn + conn.bytesOut;
      this.options.signal?.removeEventListener('abort', onAbort);
    }
  }

  private async handshake(conn: WireConnection): Promise<{ offset: number; version: number }> {
    const nonce = newNonce();
    // Once the end frame has been sent, the whole file's CRC goes with the HELLO: a receiver that
    // installed the file but whose DONE was lost can then confirm it instead of taking it again.
    const crc = this.fileCrc === undefined ? {} : { crc: this.fileCrc };
    const highest = Math.min(PROTOCOL_VERSION, this.options.protocolVersion ?? PROTOCOL_VERSION);
    // Version 1 peers read `version` only; `maxVersion` offers more to those that know it.
    const offer = highest > BASE_PROTOCOL_VERSION ? { maxVersion: highest } : {};
    await conn.send('HELLO', { version: BASE_PROTOCOL_VERSION, ...offer, id: this.id, size: this.size, meta: this.options.meta ?? {}, nonce, ...crc });
    const challenge = await conn.expect(['CHALLENGE', 'REFUSE'], this.idle);
    if (challenge.type === 'REFUSE') throw refusal(challenge.body);
    const serverNonce = String(challenge.body.nonce ?? '');
    const secret = this.options.secret;
    await conn.send('AUTH', { mac: secret === undefined ? '' : authProof(secret, 'client', this.id, nonce, serverNonce) });
    const answer = await conn.expect(['ACCEPT', 'REFUSE'], this.idle);
    if (answer.type === 'REFUSE') throw refusal(answer.body);
    if (secret !== undefined && !proofMatches(authProof(secret, 'server', this.id, nonce, serverNonce), answer.body.proof)) {
      throw new AuthError('the server could not prove it knows the shared secret');
    }
    const offset = answer.body.offset;
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0 || offset > this.size) {
      throw new ProtocolError(`the server answered with an impossible offset ${String(offset)}`);
    }
    const answered = answer.body.version;
    const version = typeof answered === 'number' && Number.isInteger(answered) && answered >= 2 && answered <= highest ? answered : BASE_PROTOCOL_VERSION;
    return { offset, version };
  }

  /**
   * Protocol version 2: offers the digests of the data frames that end past `start`, in batches,
   * and returns those the receiver says it holds (in file order): they go as COPY messages.
   */
  private async negotiate(conn: WireConnection, start: number): Promise<DataFrame[]> {
    this.frames ??= readDataFrames(this.file, this.size).catch(() => null);
    const all = await this.frames;
    if (!all) return [];
    const offered = all.filter((f) => f.offset + f.length > start);
    if (offered.length === 0) return [];
    const held: DataFrame[] = [];
    for (let first = 0; first < offered.length; first += MAX_OFFER_FRAMES) {
      const batch = offered.slice(first, first + MAX_OFFER_FRAMES);
      const last = first + batch.length >= offered.length;
      await conn.send('OFFER', { index: first, digests: Buffer.concat(batch.map((f) => f.digest)).toString('hex'), ...(last ? { last } : {}) });
      const m = await conn.expect(['HAVE', 'CANCEL'], this.idle);
      if (m.type === 'CANCEL') throw receiverCancel(m.body);
      const bits = typeof m.body.bits === 'string' ? Buffer.from(m.body.bits, 'base64') : null;
      if (m.body.index !== first || !bits || bits.length !== Math.ceil(batch.length / 8)) {
        throw new ProtocolError(`HAVE does not answer the OFFER of frames ${first}..${first + batch.length - 1}`);
      }
      batch.forEach((f, i) => {
        if (bits[i >> 3]! & (1 << (i & 7))) held.push(f);
      });
    }
    this.deltaUsed ||= held.length > 0;
    return held;
  }

  private async transfer(conn: WireConnection, start: number, copies: DataFrame[]): Promise<SendResult> {
    // CRC32 of everything before each chunk boundary sent and not yet acknowledged, so a
    // rewind to any of them can carry the whole-file CRC on.
    const crcAt = new Map<number, number>([[start, await this.prefixCrc(start)]]);
    let pos = start;
    let acked = start;
    let seq = 0;
    // COPY items carry no data: `data` is null.
    let inflight: { offset: number; end: number; data: Buffer[] | null }[] = [];
    // Frames the receiver holds, by data offset; one it cannot use after all is dropped from here.
    const held = new Map(copies.map((f) => [f.offset, f]));
    let nextHeld = 0; // index into `copies` of the first frame at or after `pos`
    const heldFrom = (at: number): number => {
      let lo = 0;
      let hi = copies.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (copies[mid]!.offset < at) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    const nextCopy = (): DataFrame | undefined => {
      while (nextHeld < copies.length && (copies[nextHeld]!.offset < pos || !held.has(copies[nextHeld]!.offset))) nextHeld++;
      return copies[nextHeld];
    };
    let endSent = false;
    // Frames numbered below this were sent before the last rewind: NACKs about them (chunks that
    // were in flight behind a damaged one) are already handled.
    let rewoundAt = 0;
    this.rateStart = Date.now();
    this.rateClock = this.rateStart;
    const ackedAtStart = start;
    for (;;) {
      // The window counts chunks, but never more than WINDOW_BYTES in flight: memory stays bounded
      // as chunks grow.
      const window = Math.min(this.window, Math.max(2, Math.floor(WINDOW_BYTES / this.chunkSize)));
      for (;;) {
        if (pos >= this.size) break;
        const copy = nextCopy();
        if (copy && copy.offset === pos) {
          // The receiver takes this frame from its own files: COPY names it, with no data. COPYs
          // cost no memory, so up to MAX_COPIES_IN_FLIGHT go out past the window.
          if (inflight.length >= window + MAX_COPIES_IN_FLIGHT) break;
          const end = pos + copy.length;
          const prefix = crc32Combine(crcAt.get(pos)!, copy.crc, copy.length);
          crcAt.set(end, prefix);
          this.prefixes.add(end, prefix);
          const copySeq = seq++;
          void conn.send('COPY', { seq: copySeq, offset: pos, length: copy.length, crc: copy.crc, digest: copy.digest.toString('hex') }).catch(() => {});
          inflight.push({ offset: pos, end, data: null });
          pos = end;
          this.highest = Math.max(this.highest, pos);
          continue;
        }
        const length = Math.min(this.chunkSize, this.size - pos, (copy?.offset ?? this.size) - pos);
        const chunks = inflight.filter((c) => c.data);
        if (copies.length === 0) {
          if (chunks.length >= window) break;
        } else {
          // Between copied frames go small chunks (a block header, a changed frame): the window
          // counts their bytes, so a run of them is not held to `window` round trips.
          const bytes = chunks.reduce((n, c) => n + c.end - c.offset, 0);
          if (chunks.length >= window + MAX_COPIES_IN_FLIGHT || (chunks.length > 0 && bytes + length > Math.min(window * this.chunkSize, WINDOW_BYTES))) break;
        }
        const data = await this.read(pos, length);
        await this.throttle(length);
        const crc = data.reduce((c, piece) => crc32(piece, c), 0);
        const prefix = crc32Combine(crcAt.get(pos)!, crc, length);
        crcAt.set(pos + length, prefix);
        this.prefixes.add(pos + length, prefix);
        // Not awaited: the window bounds what is queued, and the next chunk is read and checked
        // while this one drains.
        const chunkSeq = seq++;
        void conn.write([encodeChunkHeader({ type: CHUNK_DATA, seq: chunkSeq, offset: pos, length, crc32: crc }), ...data]).catch(() => {});
        this.sentBytes += length;
        if (pos < this.highest) this.resentBytes += Math.min(length, this.highest - pos);
        inflight.push({ offset: pos, end: pos + length, data });
        pos += length;
        this.highest = Math.max(this.highest, pos);
      }
      if (pos === this.size && !endSent) {
        this.fileCrc = crcAt.get(this.size)!;
        await conn.write([endFrame(seq++, this.size, this.fileCrc)]);
        endSent = true;
      }
      const m = await conn.expect(['ACK', 'NACK', 'DONE', 'CANCEL'], this.idle);
      if (m.type === 'CANCEL') throw receiverCancel(m.body);
      if (m.type === 'DONE') {
        // The last report covers the file, even when this connection had nothing left to send
        // (the receiver had it all: an earlier connection's last ACK may have been lost).
        if (this.reported < this.size) this.progress(this.size, ackedAtStart);
        return {
          id: this.id,
          bytes: this.size,
          crc: crcAt.get(this.size)!,
          connections: this.connections,
          resumedFrom: this.resumedFrom,
          resumes: this.resumes,
          sentBytes: this.sentBytes,
          resentBytes: this.resentBytes,
          rereadBytes: this.rereadBytes,
          nacks: this.nacks,
          delta: this.deltaUsed,
          copiedBytes: this.copiedBytes,
          refetchedFrames: this.refetched,
          wireBytes: this.wireBytes + conn.bytesIn + conn.bytesOut,
        };
      }
      const offset = Number(m.body.offset);
      // A NACK goes out at once, ACKs as writes complete: the ACK of a frame sent before the
      // last rewind can come after the NACK, naming less than it did. Nothing left to do for it.
      if (m.type === 'ACK' && typeof m.body.seq === 'number' && m.body.seq < rewoundAt && offset <= acked) continue;
      if (!Number.isSafeInteger(offset) || offset < acked || offset > pos) {
        throw new ProtocolError(`${m.type} names offset ${String(m.body.offset)}, outside ${acked}..${pos}`);
      }
      acked = offset;
      this.reached(acked);
      for (const k of crcAt.keys()) if (k < acked) crcAt.delete(k);
      if (m.type === 'NACK') {
        // The receiver could not use a frame it said it held (damaged, or its base gone): that
        // frame is sent as data from now on.
        const frame = m.body.frame;
        if (frame !== undefined) {
          if (typeof frame !== 'number') throw new ProtocolError(`NACK names frame ${String(frame)}`);
          if (held.delete(frame)) this.refetched++;
        }
        // A chunk was damaged in transit: go back to the receiver's offset, unless the NACK is
        // about a chunk sent before the last time we went back (a resent chunk damaged again is
        // NACKed again, with its new seq, and is sent again).
        const nackSeq = m.body.seq;
        if (typeof nackSeq === 'number' && nackSeq < rewoundAt) continue;
        if (frame === undefined) this.nacks++;
        pos = offset;
        nextHeld = heldFrom(pos);
        // COPYs its offset covers were taken, their ACKs still to come (see above).
        for (const c of inflight) if (!c.data && c.end <= acked) this.copiedBytes += c.end - c.offset;
        inflight = [];
        endSent = false;
        rewoundAt = seq;
        continue;
      }
      // An acknowledged chunk has left the socket for good: its memory reads the next one. One
      // ACK may cover several chunks and COPYs (the receiver acknowledges the writes completed in
      // one turn together), each COPY it covers taken from the receiver's own files.
      inflight = inflight.filter((c) => {
        if (c.end > acked) return true;
        if (c.data) for (const piece of c.data) recycleBlock(piece.buffer as ArrayBuffer);
        else this.copiedBytes += c.end - c.offset;
        return false;
      });
      this.progress(acked, ackedAtStart);
    }
  }

  /** Notes the receiver holding `offset` bytes. */
  private reached(offset: number): void {
    if (offset > this.furthest) {
      if (this.furthest >= 0) this.progressed = true;
      this.furthest = offset;
    }
  }

  /** CRC32 of the file's first `end` bytes, read on from the nearest boundary remembered. */
  private async prefixCrc(end: number): Promise<number> {
    let { offset: at, crc } = this.prefixes.floor(end);
    this.rereadBytes += end - at;
    while (at < end) {
      const n = Math.min(MAX_CHUNK_SIZE, end - at);
      for (const piece of await this.read(at, n)) {
        crc = crc32(piece, crc);
        recycleBlock(piece.buffer as ArrayBuffer);
      }
      at += n;
    }
    return crc;
  }

  /**
   * Reads into memory of our own, recycled once the chunk is acknowledged: pieces of at most
   * CHUNK_PIECE bytes (block-buffers.ts), of one capacity whatever the chunk's length, so that
   * chunks of every length (a delta sends the stretches between copied frames) reuse the same
   * memory.
   */
  private async read(position: number, length: number): Promise<Buffer[]> {
    const pieces = chunkPieces(length);
    // A small chunk (in a delta: the block header between two copied frames, which the walk of the
    // block headers has just read) is read in place while its pages are cached.
    const filled = length <= SMALL_READ ? [await this.cached.read(pieces[0]!, position)] : await Promise.all(pieces.map((p, i) => readFully(this.file, p, position + i * CHUNK_PIECE)));
    const got = filled.reduce((a, b) => a + b, 0);
    if (got < length) {
      for (const p of pieces) recycleBlock(p.buffer as ArrayBuffer);
      throw new IoError(`the file being sent shrank at byte ${position + got}`);
    }
    return pieces;
  }

  /**
   * Holds a chunk of `length` bytes back until the data sent before it and the chunk itself
   * would have gone out at the rate limit. Paced from this connection's start (bytes sent on
   * earlier connections are no reason to wait), and a time of sending nothing saves up no more
   * than RATE_BURST_MS of credit: a delta transfer sends nothing while the receiver copies
   * frames, and the data after them went out at the speed of the connection, not at the limit.
   * A wait under a millisecond is carried to the next chunk rather than slept (a timer sleeps a
   * millisecond at least: the block headers between copied frames would each have cost one).
   */
  private async throttle(length: number): Promise<void> {
    const limit = this.options.rateLimit;
    if (!limit) return;
    const now = Date.now();
    this.rateClock = Math.max(this.rateClock, now - RATE_BURST_MS) + (length / limit) * 1000;
    const wait = this.rateClock - now;
    if (wait >= 1) await new Promise((resolve) => setTimeout(resolve, wait));
  }

  /**
   * Reports progress and sizes the next chunks to about a quarter second of the link, up to half
   * the window's bytes (so at least two chunks are always in flight).
   */
  private progress(acked: number, ackedAtStart: number): void {
    const seconds = Math.max(0.001, (Date.now() - this.rateStart) / 1000);
    const rate = (acked - ackedAtStart) / seconds;
    if (!this.options.fixedChunkSize && rate > 0) {
      const target = Math.round((rate / 4) / (1024 * 1024)) * 1024 * 1024;
      this.chunkSize = Math.min(MAX_CHUNK_SIZE, WINDOW_BYTES / 2, Math.max(MIN_CHUNK_SIZE, target));
    }
    this.reported = acked;
    this.options.onProgress?.({
      bytes: acked,
      total: this.size,
      rate,
      eta: rate > 0 ? (this.size - acked) / rate : Infinity,
      copied: this.copiedBytes,
    });
  }
}

function refusal(body: Record<string, unknown>): SnapstreamError {
  const message = `the server refused: ${String(body.message ?? 'no reason given')}`;
  if (body.code === 'SNAP_ERR_AUTH') return new AuthError(message);
  const err = new RefusedError(message);
  if (body.retry === true) transientRefusals.add(err);
  return err;
}

/** A CANCEL from the receiver as a typed error: its own code when it names one (a full disk, a failed CRC). */
function receiverCancel(body: Record<string, unknown>): SnapstreamError {
  const message = `the receiver cancelled: ${String(body.reason ?? 'no reason given')}`;
  const code = typeof body.code === 'string' && (Object.values(ErrorCodes) as string[]).includes(body.code) ? (body.code as ErrorCode) : null;
  const err = code ? errorForCode(code, message) : new CancelledError(message);
  if (code === ErrorCodes.CHECKSUM) transientRefusals.add(err);
  return err;
}
