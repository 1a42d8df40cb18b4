/**
 * createSnapshotServer: receives snapshots into a directory over TCP, TLS, Unix sockets or any
 * duplex (`handle(stream)`), resuming each from what its partial file already holds.
 *
 * Everything a client says is checked before a byte is written: the protocol version, the id
 * (no separators, no `..`, bounded length), the announced size against `maxSize` and the free
 * space, the number of transfers under way, and — when a secret is set — the client's HMAC
 * proof. A server refuses to listen beyond loopback without a secret unless told `insecure`.
 * Until a client has authenticated it costs little and holds nothing: it may send only control
 * messages (a chunk frame is refused at its first four bytes), at most `maxHandshakes` such
 * clients are served at once, each has `handshakeTimeoutMs` to authenticate, and the id and a
 * transfer slot are taken only after AUTH checks out. Every bad handshake gets a typed REFUSE.
 * Each transfer has an idle timeout per message and an overall timeout scaled by its size.
 * DONE (and `installed`) comes only once the file is fsync'd, renamed and its directory fsync'd.
 * Partials abandoned for longer than `partialTtlMs` are removed.
 */
import { EventEmitter } from 'node:events';
import fsp from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { CancelledError, ErrorCodes, InvalidArgumentError, LimitError, ProtocolError, SnapstreamError, TimeoutError } from '../errors.js';
import { ChunkedReceiver } from '../sink/chunked-receiver.js';
import { partialPathFor } from '../sink/resumable-file-sink.js';
import { authProof, newNonce, proofMatches, type Secret } from './auth.js';
import { snapshotIdProblem } from '../snapshot/snapshot-id.js';
import { BASE_PROTOCOL_VERSION, MAX_OFFER_FRAMES, PROTOCOL_VERSION, type Message, type MessageTypeName } from './wire.js';
import { BaseFrames } from './base-frames.js';
import { checkAssembledSnapshot } from './check-assembled.js';
import { CoalescedAcks } from './coalesced-acks.js';
import { KeptBytes } from './kept-bytes.js';
import { dropBytes } from '../streams/byte-queue.js';
import { CHUNK_DATA, type ChunkFrame } from '../format/chunk-frame.js';
import { FRAME_DIGEST_BYTES } from '../format/frame-digest.js';
import { WireConnection } from './wire-connection.js';

/** Options of {@link createSnapshotServer}. */
export interface SnapshotServerOptions {
  /** Directory the snapshots are received into (as `<dir>/<id>`). */
  dir: string;
  /** Shared secret clients must prove they know. */
  secret?: Secret;
  /** Allow listening beyond loopback without a secret. */
  insecure?: boolean;
  /** Serve TLS with these options (key, cert, ca, requestCert…). */
  tls?: tls.TlsOptions;
  /** Largest snapshot accepted, in bytes. Default 1 TiB. */
  maxSize?: number;
  /** Transfers at once (authenticated connections). Default 16. */
  maxConcurrent?: number;
  /**
   * Connections still in their handshake (not yet authenticated) at once; one more is refused
   * with REFUSE SNAP_ERR_BUSY (`retry`). Default 64.
   */
  maxHandshakes?: number;
  /**
   * Milliseconds a connection has to authenticate (HELLO → AUTH): from the moment it is
   * accepted, or for a stream handed to `handle()`, from its HELLO. Default 5 s.
   */
  handshakeTimeoutMs?: number;
  /** Milliseconds to wait for each message or chunk. Default 30 s. */
  idleTimeoutMs?: number;
  /** Overall time allowed: 60 s plus the size at this many bytes per second. Default 1 MB/s. */
  minRate?: number;
  /** Free bytes to keep on the disk beyond the snapshot. Default 64 MiB. */
  reserveBytes?: number;
  /** Partials untouched for this long (ms) are removed. Default 24 hours. */
  partialTtlMs?: number;
  /** Bytes between fsyncs while receiving. */
  syncEvery?: number;
  /** The file name a snapshot id is stored under in `dir`. Default: the id itself. */
  fileName?: (id: string) => string;
  /** Called once a snapshot is installed, before DONE is sent (a store adopts it here). */
  onInstalled?: (info: TransferInfo & { path: string; bytes: number }) => void | Promise<void>;
  /**
   * Take part in delta transfers (protocol version 2): tell a sender which frames of its
   * snapshot are already here, and take those from the local snapshots. Default true.
   */
  delta?: boolean;
  /**
   * The snapshot files a delta transfer may take frames from. Default: the files in `dir`
   * (partials and dot-files aside; those that are not whole snapshot files are passed over).
   */
  deltaBases?: (id: string) => string[] | Promise<string[]>;
  /** Most base files indexed for a delta transfer (the newest first). Default 4. */
  maxBaseFiles?: number;
  /** Most frames indexed, over all base files. Default 1,048,576. */
  maxBaseFrames?: number;
  /** The highest protocol version to speak (1 or 2). Default 2 (delta transfers). 1 answers as a build without delta transfers does. */
  protocolVersion?: number;
  /**
   * Write received files with O_DIRECT where the file system allows it (ChunkedReceiver's
   * `direct`; silently through the page cache where it does not). Default true.
   */
  direct?: boolean;
}

/** A transfer as the server sees it, in its events and in `onInstalled`. */
export interface TransferInfo {
  /** The snapshot id the sender named. */
  id: string;
  /** Size of the file, as the sender announced it. */
  size: number;
  /** User metadata the sender sent with the handshake. */
  meta: Record<string, unknown>;
  /** Offset the transfer resumed from. */
  offset: number;
  /** The sender's address: `host:port` over TCP and TLS, or what was passed to `handle()`. */
  remote?: string;
  /** The protocol version agreed with the sender (2: a delta may be offered). */
  version?: number;
  /** File bytes taken from frames already here instead of the wire (a delta transfer), on this connection. */
  copiedBytes?: number;
  /** Frames taken from here that failed their check (damaged, or their base gone) and were fetched instead. */
  refetchedFrames?: number;
  /** True when the file is written with O_DIRECT (the server's `direct`, where the file system allows it). */
  direct?: boolean;
}

/** Errors the server explains to the sender in a CANCEL before dropping the connection. */
const CANCEL_CODES = new Set<string>([ErrorCodes.NO_SPACE, ErrorCodes.CHECKSUM, ErrorCodes.LIMIT, ErrorCodes.IO, ErrorCodes.FORMAT]);

/** Chunk writes in flight on the receiving side before it stops reading. */
const WRITES_AHEAD = 2;
/**
 * In a delta transfer: a block header and a copied frame per block, each a write of its own, so
 * more writes may be pending (still bounded: a few frames' bytes).
 */
const DELTA_WRITES_AHEAD = 8;

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '::ffff:127.0.0.1']);

/**
 * Receives snapshots into `options.dir`, resuming each from its partial file. Events:
 * `transfer-start`, `progress`, `installed`, `refused`, `bad-chunk`, `transfer-error`,
 * `connection-error`, `expired`, `error`; in delta transfers `bases-indexed` `{ id, files, frames,
 * cached }` (the frames already here, at the first OFFER; `cached`: the index of an earlier
 * connection, its files unchanged since) and `base-frame-failed` `{ id, offset, base }`.
 */
export class SnapshotServer extends EventEmitter {
  /** The options the server was made with. */
  readonly options: SnapshotServerOptions;
  private server: net.Server | null = null;
  private readonly active = new Set<string>();
  private readonly connections = new Set<Duplex>();
  /** Connections that have not authenticated yet. */
  private authenticating = 0;
  /**
   * The index of base frames last built, used again by later delta transfers (a reconnect, the
   * next snapshot) while its candidate files are unchanged (same names, sizes, inodes, times):
   * one index at most, itself bounded by maxBaseFiles and maxBaseFrames.
   */
  private baseIndex: BaseFrames | null = null;

  constructor(options: SnapshotServerOptions) {
    super();
    if (typeof options.dir !== 'string' || options.dir === '') throw new InvalidArgumentError('dir is required');
    this.options = options;
  }

  /** Transfers under way. */
  get transfers(): number {
    return this.active.size;
  }

  /**
   * Listens on TCP (`{ port, host }`, host default 127.0.0.1) or a Unix socket (`{ path }`).
   * Resolves with the address.
   */
  async listen(where: { port?: number; host?: string; path?: string }): Promise<net.AddressInfo | string> {
    const host = where.host ?? '127.0.0.1';
    if (where.path === undefined && !LOOPBACK.has(host) && this.options.secret === undefined && !this.options.insecure) {
      throw new InvalidArgumentError(`refusing to listen on ${host} without a secret: set one, or set insecure`);
    }
    await fsp.mkdir(this.options.dir, { recursive: true });
    await this.expirePartials();
    const onConnection = (socket: net.Socket): void => {
      const remote = socket.remoteAddress === undefined ? undefined : `${socket.remoteAddress}:${socket.remotePort}`;
      void this.serve(socket, remote, true);
    };
    // The TLS handshake comes before ours: it gets the same short deadline (Node's default is 120 s).
    const tlsOptions = this.options.tls && { handshakeTimeout: this.options.handshakeTimeoutMs ?? 5_000, ...this.options.tls };
    this.server = tlsOptions ? tls.createServer(tlsOptions, onConnection) : net.createServer(onConnection);
    const server = this.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if (where.path !== undefined) server.listen(where.path, resolve);
      else server.listen(where.port ?? 0, host, resolve);
    });
    server.on('error', (err) => this.emit('error', err));
    // A failed or timed-out TLS handshake leaves its socket open unless it is destroyed here.
    server.on('tlsClientError', (err: Error, socket: Duplex) => {
      socket.destroy();
      this.emit('connection-error', err);
    });
    return server.address()!;
  }

  /** Stops listening and drops open connections (their partials stay for a later resume). */
  async close(): Promise<void> {
    for (const c of this.connections) c.destroy();
    this.baseIndex = null;
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Serves one transfer over any duplex stream. Resolves when it ends, either way. The stream
   * is one the application chose (a child process's stdio, say, which may take a while to
   * start): its `handshakeTimeoutMs` runs from the HELLO, which `idleTimeoutMs` bounds.
   */
  handle(stream: Duplex, remote?: string): Promise<void> {
    return this.serve(stream, remote, false);
  }

  /** One connection; `accepted`: a stranger's, from listen(), on the handshake clock at once. */
  private async serve(stream: Duplex, remote: string | undefined, accepted: boolean): Promise<void> {
    this.connections.add(stream);
    const conn = new WireConnection(stream); // takes no chunk until the peer has authenticated
    const idle = this.options.idleTimeoutMs ?? 30_000;
    let id: string | null = null;
    let receiver: ChunkedReceiver | null = null;
    let overall: NodeJS.Timeout | null = null;
    let hello: Record<string, unknown> = {};
    // Until AUTH checks out, a peer costs one small buffer and a place among maxHandshakes; it
    // holds no transfer slot and no id, and has handshakeTimeoutMs in all to authenticate.
    let authenticating = false;
    const authenticated = (): void => {
      if (authenticating) this.authenticating--;
      authenticating = false;
    };
    // `retry`: the refusal may pass (a transfer of the same id still winding down after its
    // connection dropped, say), so a sender that can reconnect should try again a little later.
    const refuse = async (code: string, message: string, retry = false): Promise<null> => {
      await conn.send('REFUSE', { code, message, ...(retry ? { retry } : {}) }).catch(() => {});
      this.emit('refused', { id: hello.id, code, message, remote });
      return null;
    };
    try {
      if (this.authenticating >= (this.options.maxHandshakes ?? 64)) {
        await refuse(ErrorCodes.BUSY, 'too many connections are authenticating', true);
        return;
      }
      this.authenticating++;
      authenticating = true;
      const admitted = await this.authenticate(conn, remote, accepted, refuse, (h) => (hello = h));
      authenticated();
      if (!admitted) return;
      const info = await this.reserve(admitted, refuse);
      if (!info) return;
      id = info.id; // reserved by reserve()
      const crc = hello.crc;
      receiver = new ChunkedReceiver({
        path: this.pathOf(id),
        maxSize: info.size,
        // A sender that has sent its end frame before knows the file's CRC: if that very file is
        // installed here (our DONE was lost), the transfer is confirmed without sending it again.
        ...(typeof crc === 'number' ? { expect: { length: info.size, crc } } : {}),
        ...(this.options.syncEvery !== undefined ? { syncEvery: this.options.syncEvery } : {}),
        direct: this.options.direct ?? true,
      });
      receiver.on('error', () => {});
      const ready = receiver;
      await new Promise<void>((resolve, reject) => {
        ready.once('ready', () => resolve());
        ready.once('error', reject);
      });
      info.offset = receiver.offset;
      info.direct = receiver.writesDirect;
      const limit = 60_000 + (info.size / (this.options.minRate ?? 1_000_000)) * 1000;
      overall = setTimeout(() => {
        this.emit('transfer-error', info, new TimeoutError(`transfer ${info.id} took longer than ${Math.round(limit / 1000)} s`));
        conn.destroy();
      }, limit);
      conn.acceptChunks();
      // `version` only when above 1: a version 1 ACCEPT is what an older build sends.
      await conn.send('ACCEPT', { offset: receiver.offset, proof: this.proof(info, hello), ...(info.version! > BASE_PROTOCOL_VERSION ? { version: info.version } : {}) });
      this.emit('transfer-start', info);
      // Version 2: the frames already here are indexed while the sender reads its own block
      // headers for its OFFER, not after it.
      const bases = info.version! >= 2 && receiver.offset < info.size ? this.indexBases(info.id) : null;
      bases?.catch(() => {}); // its error, if any, is met at the first OFFER
      await this.receive(conn, receiver, info, idle, bases);
    } catch (err) {
      if (id) {
        // Tell the sender why the data was refused (a full disk, a file that failed its CRC or
        // could not be installed, too much data), not just hang up. A garbled peer is dropped.
        if (err instanceof SnapstreamError && CANCEL_CODES.has(err.code)) {
          await conn.send('CANCEL', { code: err.code, reason: err.message }).catch(() => {});
        }
        if (err instanceof ProtocolError) conn.destroy();
        this.emit('transfer-error', { id }, err);
      } else if (authenticating && (err instanceof ProtocolError || err instanceof TimeoutError)) {
        // A bad handshake is told why, in a typed REFUSE, and closed. Line noise or a slow link
        // may pass: a sender that can reconnect tries again.
        await refuse(err.code, err.message, true);
      } else this.emit('connection-error', err);
    } finally {
      authenticated();
      if (overall) clearTimeout(overall);
      if (receiver && !receiver.installed) receiver.destroy();
      if (id) this.active.delete(id);
      conn.close();
      // Kept until it has closed (close() destroys it within a second), so that our own close()
      // can end one still lingering after its REFUSE.
      if (stream.destroyed) this.connections.delete(stream);
      else stream.once('close', () => this.connections.delete(stream));
    }
  }

  /**
   * HELLO → CHALLENGE → AUTH, within `handshakeTimeoutMs` (from the connection when `accepted`,
   * else from the HELLO). Checks what can be checked without the
   * client's proof (version, id, size), then the proof. Answers REFUSE and returns null if
   * anything is wrong. Reserves nothing: an unauthenticated peer holds no slot and no id.
   */
  private async authenticate(
    conn: WireConnection,
    remote: string | undefined,
    accepted: boolean,
    refuse: (code: string, message: string, retry?: boolean) => Promise<null>,
    onHello: (hello: Record<string, unknown>) => void,
  ): Promise<TransferInfo | null> {
    const limit = this.options.handshakeTimeoutMs ?? 5_000;
    let deadline = accepted ? Date.now() + limit : Number.POSITIVE_INFINITY;
    const expect = async (types: MessageTypeName[]): Promise<Message> => {
      const left = deadline - Date.now();
      const wait = Math.max(1, Math.min(this.options.idleTimeoutMs ?? 30_000, left));
      try {
        return await conn.expect(types, wait);
      } catch (err) {
        if (err instanceof TimeoutError && wait >= left) throw new TimeoutError(`no authentication within the ${limit} ms handshake timeout`);
        throw err;
      }
    };
    const hello = (await expect(['HELLO'])).body;
    if (!accepted) deadline = Date.now() + limit;
    onHello(hello);
    if (hello.version !== BASE_PROTOCOL_VERSION) return refuse(ErrorCodes.UNSUPPORTED, `protocol version ${String(hello.version)} is not supported`);
    const problem = snapshotIdProblem(hello.id);
    if (problem) return refuse(ErrorCodes.INVALID_ARGUMENT, problem);
    const id = hello.id as string;
    const size = hello.size;
    const maxSize = this.options.maxSize ?? 2 ** 40;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return refuse(ErrorCodes.INVALID_ARGUMENT, 'the size must be a non-negative integer');
    if (size > maxSize) return refuse(ErrorCodes.LIMIT, `${size} bytes is over the limit of ${maxSize}`);
    const serverNonce = newNonce();
    await conn.send('CHALLENGE', { nonce: serverNonce, auth: this.options.secret !== undefined });
    const auth = await expect(['AUTH', 'CANCEL']);
    if (auth.type === 'CANCEL') throw new CancelledError('the client cancelled during the handshake');
    hello.serverNonce = serverNonce;
    const secret = this.options.secret;
    if (secret !== undefined) {
      const expected = authProof(secret, 'client', id, String(hello.nonce ?? ''), serverNonce);
      if (!proofMatches(expected, auth.body.mac)) return refuse(ErrorCodes.AUTH, 'authentication failed');
    }
    const meta = hello.meta !== null && typeof hello.meta === 'object' && !Array.isArray(hello.meta) ? (hello.meta as Record<string, unknown>) : {};
    // The highest version both speak: the sender's `maxVersion` (absent: 1) and ours.
    const ours = this.options.delta === false ? BASE_PROTOCOL_VERSION : Math.min(PROTOCOL_VERSION, this.options.protocolVersion ?? PROTOCOL_VERSION);
    const theirs = typeof hello.maxVersion === 'number' && Number.isInteger(hello.maxVersion) ? hello.maxVersion : BASE_PROTOCOL_VERSION;
    const version = Math.max(BASE_PROTOCOL_VERSION, Math.min(ours, theirs));
    return { id, size, meta, offset: 0, version, ...(remote ? { remote } : {}) };
  }

  /**
   * For an authenticated peer: takes the id and a transfer slot, and checks the free space.
   * Answers REFUSE and returns null (releasing what it took) if it cannot.
   */
  private async reserve(info: TransferInfo, refuse: (code: string, message: string, retry?: boolean) => Promise<null>): Promise<TransferInfo | null> {
    const { id, size } = info;
    if (this.active.has(id)) return refuse(ErrorCodes.REFUSED, `a transfer of ${id} is already under way`, true);
    if (this.active.size >= (this.options.maxConcurrent ?? 16)) return refuse(ErrorCodes.REFUSED, 'too many transfers under way', true);
    // Reserved now, before any await: a second connection for this id is refused above, and the
    // slot counts against maxConcurrent. Released below unless there is room for the file.
    this.active.add(id);
    let kept = false;
    try {
      const missing = size - (await partialSize(this.pathOf(id)));
      if (missing > 0 && (await freeBytes(this.options.dir)) < missing + (this.options.reserveBytes ?? 64 * 1024 * 1024)) {
        return refuse(ErrorCodes.NO_SPACE, `not enough free space for ${size} bytes`);
      }
      kept = true;
      return info;
    } finally {
      if (!kept) this.active.delete(id);
    }
  }

  /** The server's proof, sent with ACCEPT. */
  private proof(info: TransferInfo, hello: Record<string, unknown>): string | undefined {
    const secret = this.options.secret;
    return secret === undefined ? undefined : authProof(secret, 'server', info.id, String(hello.nonce ?? ''), String(hello.serverNonce));
  }

  /**
   * Takes chunks until the end frame installs the file. Each chunk is checked and handed to the
   * file sink at once; its ACK goes out when the partial holds it, while later chunks are already
   * being checked (writes, and so ACKs, stay in order; the writes completed in one turn of the
   * event loop are acknowledged by one ACK, for the last of them). At most WRITES_AHEAD chunks
   * wait to be taken by the sink (with O_DIRECT it takes them into staging before they are in
   * the file, and writes what is staged when no more comes: an ACK never waits on the sender).
   */
  private async receive(conn: WireConnection, receiver: ChunkedReceiver, info: TransferInfo, idle: number, indexing: Promise<BaseFrames> | null): Promise<void> {
    let nacked = -1; // the offset a NACK asked the sender to go back to
    // ACKs waiting for their chunk to be in the partial, and chunks waiting to be taken by the sink.
    const pending: Promise<unknown>[] = [];
    const taking: Promise<unknown>[] = [];
    let failed: unknown = null;
    const acks = new CoalescedAcks(async ({ seq, offset }) => {
      await conn.send('ACK', { seq, offset, durable: receiver.durable });
      this.emit('progress', { id: info.id, bytes: offset, total: info.size });
    });
    // Before a NACK or DONE: the writes under way completed and acknowledged, so the sender sees
    // the ACKs first (an ACK behind a NACK would name an offset the sender has gone back past).
    const settle = async (): Promise<void> => {
      await receiver.flush().catch(() => {}); // a failed write is met below, through its ACK
      await Promise.all(pending);
      await acks.flush();
      if (failed) throw failed;
    };
    // Delta transfer (version 2): the frames already here, indexed at the first OFFER.
    let bases: BaseFrames | null = null;
    const kept = new KeptBytes();
    let offered = 0;
    // However many digests a peer claims, it is answered one bounded message at a time, and
    // no more frames than the announced size could hold (or MAX_OFFERED_FRAMES) are taken.
    const maxOffered = Math.min(MAX_OFFERED_FRAMES, Math.floor(info.size / MIN_DATA_FRAME) + 1);
    info.copiedBytes = 0;
    info.refetchedFrames = 0;
    try {
      for (;;) {
        if (failed) throw failed;
        const item = await conn.next(idle);
        let frame: ChunkFrame;
        let copy: string | null = null; // the digest, for a COPY
        let copyBase: string | undefined; // the base file it is read from
        let unread = false; // a COPY answered without reading the frame
        if (item.kind === 'message') {
          const { type, body } = item.message;
          if (type === 'CANCEL') throw new CancelledError(`the sender cancelled: ${String(body.reason ?? '')}`);
          if (type === 'OFFER') {
            if (info.version! < 2) throw new ProtocolError('an OFFER needs protocol version 2');
            const digests = checkOffer(body, offered);
            if (offered + digests.length > maxOffered) {
              throw new LimitError(`the sender offers more than ${maxOffered} frames for ${info.size} bytes`, { expected: maxOffered, actual: offered + digests.length });
            }
            bases ??= await (indexing ?? this.indexBases(info.id));
            receiver.beforeInstall ??= (file, length, crc) => checkAssembledSnapshot(file, length, crc, kept);
            const bits = Buffer.alloc(Math.ceil(digests.length / 8));
            digests.forEach((d, i) => {
              if (bases!.find(d)) bits[i >> 3]! |= 1 << (i & 7);
            });
            offered += digests.length;
            await conn.send('HAVE', { index: body.index, bits: bits.toString('base64') });
            continue;
          }
          if (type !== 'COPY') continue;
          if (!bases) throw new ProtocolError('a COPY before any OFFER');
          const c = checkCopy(body);
          if (c.offset > receiver.offset || c.offset + c.length <= receiver.offset) {
            // A gap or a repeat, answered as for a chunk: nothing is read.
            frame = { type: CHUNK_DATA, seq: c.seq, offset: c.offset, length: c.length, crc32: c.crc, parts: [] };
            unread = true;
          } else {
            const base = bases.find(c.digest);
            const bytes = base && base.length === c.length && base.crc === c.crc ? await bases.read(c.digest, base) : null;
            if (!bytes) {
              await settle();
              await this.missing(conn, info, c.seq, receiver.offset, c.offset, base?.path);
              nacked = receiver.offset;
              continue;
            }
            frame = { type: CHUNK_DATA, seq: c.seq, offset: c.offset, length: c.length, crc32: c.crc, parts: [bytes] };
            copy = c.digest;
            copyBase = base!.path;
          }
        } else frame = item.frame;
        const before = receiver.offset;
        const { outcome, done, taken } = unread ? copyOutcome(frame, receiver.offset) : receiver.accept(frame);
        if (outcome === 'installed') {
          // The end frame: what became of it (the install, or why it failed) is met below, once
          // the writes before it are acknowledged; a connection lost meanwhile does not stop it.
          done.catch(() => {});
          await Promise.all(pending);
          await acks.flush().catch(() => {});
          if ((await done) !== 'installed') continue;
          // Installed (fsync'd and renamed) whether or not DONE gets through.
          const installed = { ...info, path: receiver.path, bytes: receiver.offset };
          await this.options.onInstalled?.(installed);
          this.emit('installed', installed);
          await conn.send('DONE', { length: receiver.offset, crc: frame.crc32 });
          return;
        }
        // A frame read from a base: its memory is reused once taken by the sink (or refused).
        const copied = copy !== null ? frame.parts![0]! : null;
        if (copied) void taken.then(() => bases!.release(copied), () => bases!.release(copied));
        if (copy !== null && outcome === 'bad') {
          // A frame here whose bytes no longer match its CRC: never written, forgotten, and
          // asked of the sender instead.
          bases!.forget(copy);
          await settle();
          await this.missing(conn, info, frame.seq, receiver.offset, frame.offset, copyBase);
          nacked = receiver.offset;
          continue;
        }
        if (outcome === 'bad' || outcome === 'gap') {
          // Every damaged chunk is answered, naming its seq: the sender goes back to our offset,
          // and tells NACKs about chunks it sent before going back (already handled) by their seq,
          // so a resent chunk damaged again is simply asked for again. Gaps (the chunks in flight
          // behind a damaged one, dropped) need one answer per offset at most.
          if (outcome === 'bad') {
            this.emit('bad-chunk', { id: info.id, seq: frame.seq, offset: frame.offset, ...(info.remote ? { remote: info.remote } : {}) });
          }
          if (outcome === 'bad' || nacked !== receiver.offset) {
            nacked = receiver.offset;
            await settle();
            await conn.send('NACK', { seq: frame.seq, offset: receiver.offset });
          }
          continue;
        }
        nacked = -1;
        if (copy !== null && outcome === 'written') info.copiedBytes += receiver.offset - before;
        // A delta's block headers come as chunks of their own: kept, for the last check.
        if (bases && copy === null && outcome === 'written') kept.keep(before, dropBytes(frame.parts ?? (frame.data ? [frame.data] : []), before - frame.offset));
        const offset = receiver.offset;
        const seq = frame.seq;
        // Pending until written; its ACK goes out at the end of the turn, not waited for here (a
        // turn's wait at the limit of writes ahead held the next frame back).
        // (A repeat is done at once: its ACK, naming the offset taken so far, waits for the partial to hold it.)
        const ack = done
          .then(() => receiver.whenWritten(offset))
          .then(() => void acks.ack(seq, offset).catch((err: unknown) => (failed ??= err)))
          .catch((err: unknown) => (failed ??= err));
        pending.push(ack);
        void ack.finally(() => pending.splice(pending.indexOf(ack), 1));
        const take = taken.then(
          () => {},
          () => {},
        );
        taking.push(take);
        void take.finally(() => taking.splice(taking.indexOf(take), 1));
        if (taking.length >= (bases ? DELTA_WRITES_AHEAD : WRITES_AHEAD)) await Promise.race(taking);
      }
    } finally {
      await (bases ?? (await indexing?.catch(() => null)))?.close();
    }
  }

  /** Tells the sender a frame it was told is here cannot be used after all: it sends it as data. */
  private async missing(conn: WireConnection, info: TransferInfo, seq: number, offset: number, frame: number, base: string | undefined): Promise<void> {
    info.refetchedFrames = (info.refetchedFrames ?? 0) + 1;
    this.emit('base-frame-failed', { id: info.id, offset: frame, ...(base ? { base } : {}) });
    await conn.send('NACK', { seq, offset, frame });
  }

  /**
   * The frames already here that a delta transfer of `id` may use: the index built for an
   * earlier connection while its files are unchanged, else a new one. Emits `bases-indexed`.
   */
  private async indexBases(id: string): Promise<BaseFrames> {
    const candidates = this.options.deltaBases ? await this.options.deltaBases(id) : await BaseFrames.candidatesIn(this.options.dir);
    let index = this.baseIndex;
    const cached = index !== null && index.stamp === (await BaseFrames.stampOf(candidates));
    if (!cached) {
      index = await BaseFrames.build(candidates, {
        ...(this.options.maxBaseFiles !== undefined ? { maxFiles: this.options.maxBaseFiles } : {}),
        ...(this.options.maxBaseFrames !== undefined ? { maxFrames: this.options.maxBaseFrames } : {}),
      });
      this.baseIndex = index;
    }
    this.emit('bases-indexed', { id, files: index!.files, frames: index!.size, cached });
    // Each connection reads through its own files; the index is shared.
    return index!.share();
  }

  /** Where snapshot `id` is stored. */
  pathOf(id: string): string {
    return path.join(this.options.dir, this.options.fileName ? this.options.fileName(id) : id);
  }

  /** Removes partials nobody has written to for `partialTtlMs`. */
  async expirePartials(): Promise<string[]> {
    const ttl = this.options.partialTtlMs ?? 24 * 3600 * 1000;
    const removed: string[] = [];
    let names: string[] = [];
    try {
      names = await fsp.readdir(this.options.dir);
    } catch {
      return removed;
    }
    const activeFiles = new Set([...this.active].map((id) => `${path.basename(this.pathOf(id))}.partial`));
    for (const name of names) {
      if (!name.endsWith('.partial') || activeFiles.has(name)) continue;
      const file = path.join(this.options.dir, name);
      const stat = await fsp.stat(file).catch(() => null);
      if (stat && Date.now() - stat.mtimeMs > ttl) {
        await fsp.rm(file, { force: true });
        removed.push(file);
      }
    }
    if (removed.length > 0) this.emit('expired', removed);
    return removed;
  }
}

/** Most frame digests one connection may offer. */
const MAX_OFFERED_FRAMES = 1 << 24;
/** The smallest data frame counted when bounding an OFFER by the file's size. */
const MIN_DATA_FRAME = 16;

/** The digests (hex) of an OFFER, checked: the next batch in order, at most MAX_OFFER_FRAMES. */
function checkOffer(body: Record<string, unknown>, expected: number): string[] {
  const { index, digests } = body;
  const width = FRAME_DIGEST_BYTES * 2;
  if (index !== expected || typeof digests !== 'string' || digests.length === 0 || digests.length % width !== 0 || digests.length > MAX_OFFER_FRAMES * width || !/^[0-9a-f]+$/.test(digests)) {
    throw new ProtocolError(`a malformed OFFER (index ${String(index)}, expected ${expected})`);
  }
  const out: string[] = [];
  for (let i = 0; i < digests.length; i += width) out.push(digests.slice(i, i + width));
  return out;
}

/** A COPY's fields, checked. */
function checkCopy(body: Record<string, unknown>): { seq: number; offset: number; length: number; crc: number; digest: string } {
  const { seq, offset, length, crc, digest } = body;
  const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (!count(seq) || !count(offset) || !count(length) || length === 0 || !count(crc) || crc > 0xffffffff || typeof digest !== 'string' || !/^[0-9a-f]{32}$/.test(digest)) {
    throw new ProtocolError('a malformed COPY');
  }
  return { seq, offset, length, crc, digest };
}

/** What becomes of a COPY that is a gap (starts beyond what is here) or a repeat (all here). */
function copyOutcome(frame: ChunkFrame, offset: number): { outcome: 'gap' | 'repeat'; done: Promise<unknown>; taken: Promise<unknown> } {
  return { outcome: frame.offset > offset ? 'gap' : 'repeat', done: Promise.resolve(), taken: Promise.resolve() };
}

async function partialSize(finalPath: string): Promise<number> {
  const stat = await fsp.stat(partialPathFor(finalPath)).catch(() => null);
  return stat?.size ?? 0;
}

async function freeBytes(dir: string): Promise<number> {
  const s = await fsp.statfs(dir).catch(() => null);
  return s ? s.bavail * s.bsize : Number.MAX_SAFE_INTEGER;
}

/** Creates a {@link SnapshotServer}; call `listen()` or hand it streams with `handle()`. */
export function createSnapshotServer(options: SnapshotServerOptions): SnapshotServer {
  return new SnapshotServer(options);
}

