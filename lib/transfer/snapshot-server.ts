/**
 * createSnapshotServer: receives snapshots into a directory over TCP, TLS, Unix sockets or any
 * duplex (`handle(stream)`), resuming each from what its partial file already holds.
 *
 * Everything a client says is checked before a byte is written: the protocol version, the id
 * (no separators, no `..`, bounded length), the announced size against `maxSize` and the free
 * space, the number of transfers under way, and — when a secret is set — the client's HMAC
 * proof. A server refuses to listen beyond loopback without a secret unless told `insecure`.
 * Each transfer has an idle timeout per message and an overall timeout scaled by its size.
 * Partials abandoned for longer than `partialTtl` are removed.
 */
import { EventEmitter } from 'node:events';
import fsp from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { CancelledError, ErrorCodes, InvalidArgumentError, SnapstreamError, TimeoutError } from '../errors.js';
import { ChunkedReceiver } from '../sink/chunked-receiver.js';
import { partialPathFor } from '../sink/resumable-file-sink.js';
import { authProof, newNonce, proofMatches, type Secret } from './auth.js';
import { snapshotIdProblem } from '../snapshot/snapshot-id.js';
import { PROTOCOL_VERSION } from './wire.js';
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
  /** Transfers at once. Default 16. */
  maxConcurrent?: number;
  /** Milliseconds to wait for each message or chunk. Default 30 s. */
  idleTimeout?: number;
  /** Overall time allowed: 60 s plus the size at this many bytes per second. Default 1 MB/s. */
  minRate?: number;
  /** Free bytes to keep on the disk beyond the snapshot. Default 64 MiB. */
  reserveBytes?: number;
  /** Partials untouched for this long (ms) are removed. Default 24 hours. */
  partialTtl?: number;
  /** Bytes between fsyncs while receiving. */
  syncEvery?: number;
  /** The file name a snapshot id is stored under in `dir`. Default: the id itself. */
  fileName?: (id: string) => string;
  /** Called once a snapshot is installed, before DONE is sent (a store adopts it here). */
  onInstalled?: (info: TransferInfo & { path: string; bytes: number }) => void | Promise<void>;
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
}

/** Errors the server explains to the sender in a CANCEL before dropping the connection. */
const CANCEL_CODES = new Set<string>([ErrorCodes.NO_SPACE, ErrorCodes.CHECKSUM, ErrorCodes.LIMIT, ErrorCodes.IO, ErrorCodes.FORMAT]);

/** Chunk writes in flight on the receiving side before it stops reading. */
const WRITES_AHEAD = 2;

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '::ffff:127.0.0.1']);

/**
 * Receives snapshots into `options.dir`, resuming each from its partial file. Events:
 * `transfer-start`, `progress`, `installed`, `refused`, `bad-chunk`, `transfer-error`,
 * `connection-error`, `expired`, `error`.
 */
export class SnapshotServer extends EventEmitter {
  /** The options the server was made with. */
  readonly options: SnapshotServerOptions;
  private server: net.Server | null = null;
  private readonly active = new Set<string>();
  private readonly connections = new Set<Duplex>();

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
      void this.handle(socket, remote);
    };
    this.server = this.options.tls ? tls.createServer(this.options.tls, onConnection) : net.createServer(onConnection);
    const server = this.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if (where.path !== undefined) server.listen(where.path, resolve);
      else server.listen(where.port ?? 0, host, resolve);
    });
    server.on('error', (err) => this.emit('error', err));
    return server.address()!;
  }

  /** Stops listening and drops open connections (their partials stay for a later resume). */
  async close(): Promise<void> {
    for (const c of this.connections) c.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Serves one transfer over any duplex stream. Resolves when it ends, either way. */
  async handle(stream: Duplex, remote?: string): Promise<void> {
    this.connections.add(stream);
    const conn = new WireConnection(stream);
    const idle = this.options.idleTimeout ?? 30_000;
    let id: string | null = null;
    let receiver: ChunkedReceiver | null = null;
    let overall: NodeJS.Timeout | null = null;
    try {
      const hello = await conn.expect(['HELLO'], idle);
      const info = await this.admit(conn, hello.body, remote);
      if (!info) return;
      id = info.id; // reserved by admit()
      const crc = hello.body.crc;
      receiver = new ChunkedReceiver({
        path: this.pathOf(id),
        maxSize: info.size,
        // A sender that has sent its end frame before knows the file's CRC: if that very file is
        // installed here (our DONE was lost), the transfer is confirmed without sending it again.
        ...(typeof crc === 'number' ? { expect: { length: info.size, crc } } : {}),
        ...(this.options.syncEvery !== undefined ? { syncEvery: this.options.syncEvery } : {}),
      });
      receiver.on('error', () => {});
      const ready = receiver;
      await new Promise<void>((resolve, reject) => {
        ready.once('ready', () => resolve());
        ready.once('error', reject);
      });
      info.offset = receiver.offset;
      const limit = 60_000 + (info.size / (this.options.minRate ?? 1_000_000)) * 1000;
      overall = setTimeout(() => {
        this.emit('transfer-error', info, new TimeoutError(`transfer ${info.id} took longer than ${Math.round(limit / 1000)} s`));
        conn.destroy();
      }, limit);
      await conn.send('ACCEPT', { offset: receiver.offset, proof: this.proof(info, hello.body) });
      this.emit('transfer-start', info);
      await this.receive(conn, receiver, info, idle);
    } catch (err) {
      // Tell the sender why the data was refused (a full disk, a file that failed its CRC, too
      // much data), not just hang up. A silent or garbled peer is simply dropped.
      if (id && err instanceof SnapstreamError && CANCEL_CODES.has(err.code)) {
        await conn.send('CANCEL', { code: err.code, reason: err.message }).catch(() => {});
      }
      if (id) this.emit('transfer-error', { id }, err);
      else this.emit('connection-error', err);
    } finally {
      if (overall) clearTimeout(overall);
      if (receiver && !receiver.installed) receiver.destroy();
      if (id) this.active.delete(id);
      this.connections.delete(stream);
      conn.close();
    }
  }

  /** Checks a HELLO and the client's proof; answers REFUSE and returns null if anything is wrong. */
  private async admit(conn: WireConnection, hello: Record<string, unknown>, remote: string | undefined): Promise<TransferInfo | null> {
    // `retry`: the refusal may pass (a transfer of the same id still winding down after its
    // connection dropped, say), so a sender that can reconnect should try again a little later.
    const refuse = async (code: string, message: string, retry = false): Promise<null> => {
      await conn.send('REFUSE', { code, message, ...(retry ? { retry } : {}) }).catch(() => {});
      this.emit('refused', { id: hello.id, code, message, remote });
      return null;
    };
    if (hello.version !== PROTOCOL_VERSION) return refuse(ErrorCodes.UNSUPPORTED, `protocol version ${String(hello.version)} is not supported`);
    const problem = snapshotIdProblem(hello.id);
    if (problem) return refuse(ErrorCodes.INVALID_ARGUMENT, problem);
    const id = hello.id as string;
    const size = hello.size;
    const maxSize = this.options.maxSize ?? 2 ** 40;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return refuse(ErrorCodes.INVALID_ARGUMENT, 'the size must be a non-negative integer');
    if (size > maxSize) return refuse(ErrorCodes.LIMIT, `${size} bytes is over the limit of ${maxSize}`);
    if (this.active.has(id)) return refuse(ErrorCodes.REFUSED, `a transfer of ${id} is already under way`, true);
    if (this.active.size >= (this.options.maxConcurrent ?? 16)) return refuse(ErrorCodes.REFUSED, 'too many transfers under way', true);
    // Reserved now, before any await: a second connection for this id is refused above, and the
    // slot counts against maxConcurrent. Released below unless the transfer is admitted.
    this.active.add(id);
    let admitted = false;
    try {
      const info = await this.challenge(conn, hello, id, size, remote, refuse);
      admitted = info !== null;
      return info;
    } finally {
      if (!admitted) this.active.delete(id);
    }
  }

  /** The rest of admission, with the id reserved: free space, then the challenge–response. */
  private async challenge(
    conn: WireConnection,
    hello: Record<string, unknown>,
    id: string,
    size: number,
    remote: string | undefined,
    refuse: (code: string, message: string, retry?: boolean) => Promise<null>,
  ): Promise<TransferInfo | null> {
    const missing = size - (await partialSize(this.pathOf(id)));
    if (missing > 0 && (await freeBytes(this.options.dir)) < missing + (this.options.reserveBytes ?? 64 * 1024 * 1024)) {
      return refuse(ErrorCodes.NO_SPACE, `not enough free space for ${size} bytes`);
    }
    const serverNonce = newNonce();
    await conn.send('CHALLENGE', { nonce: serverNonce, auth: this.options.secret !== undefined });
    const auth = await conn.expect(['AUTH', 'CANCEL'], this.options.idleTimeout ?? 30_000);
    if (auth.type === 'CANCEL') throw new CancelledError('the client cancelled during the handshake');
    hello.serverNonce = serverNonce;
    const secret = this.options.secret;
    if (secret !== undefined) {
      const expected = authProof(secret, 'client', id, String(hello.nonce ?? ''), serverNonce);
      if (!proofMatches(expected, auth.body.mac)) return refuse(ErrorCodes.AUTH, 'authentication failed');
    }
    const meta = hello.meta !== null && typeof hello.meta === 'object' && !Array.isArray(hello.meta) ? (hello.meta as Record<string, unknown>) : {};
    return { id, size, meta, offset: 0, ...(remote ? { remote } : {}) };
  }

  private proof(info: TransferInfo, hello: Record<string, unknown>): string | undefined {
    const secret = this.options.secret;
    return secret === undefined ? undefined : authProof(secret, 'server', info.id, String(hello.nonce ?? ''), String(hello.serverNonce));
  }

  /**
   * Takes chunks until the end frame installs the file. Each chunk is checked and its write
   * started at once; its ACK goes out when the write completes, while later chunks are already
   * being checked (writes, and so ACKs, stay in order). At most WRITES_AHEAD writes are pending.
   */
  private async receive(conn: WireConnection, receiver: ChunkedReceiver, info: TransferInfo, idle: number): Promise<void> {
    let nacked = -1; // the offset a NACK asked the sender to go back to
    const pending: Promise<unknown>[] = [];
    let failed: unknown = null;
    for (;;) {
      if (failed) throw failed;
      const item = await conn.next(idle);
      if (item.kind === 'message') {
        if (item.message.type === 'CANCEL') throw new CancelledError(`the sender cancelled: ${String(item.message.body.reason ?? '')}`);
        continue;
      }
      const { outcome, done } = receiver.accept(item.frame);
      if (outcome === 'installed') {
        await Promise.all(pending);
        if ((await done) !== 'installed') continue;
        // Installed (fsync'd and renamed) whether or not DONE gets through.
        const installed = { ...info, path: receiver.path, bytes: receiver.offset };
        await this.options.onInstalled?.(installed);
        this.emit('installed', installed);
        await conn.send('DONE', { length: receiver.offset, crc: item.frame.crc32 });
        return;
      }
      if (outcome === 'bad' || outcome === 'gap') {
        // Every damaged chunk is answered, naming its seq: the sender goes back to our offset,
        // and tells NACKs about chunks it sent before going back (already handled) by their seq,
        // so a resent chunk damaged again is simply asked for again. Gaps (the chunks in flight
        // behind a damaged one, dropped) need one answer per offset at most.
        if (outcome === 'bad') {
          this.emit('bad-chunk', { id: info.id, seq: item.frame.seq, offset: item.frame.offset, ...(info.remote ? { remote: info.remote } : {}) });
        }
        if (outcome === 'bad' || nacked !== receiver.offset) {
          nacked = receiver.offset;
          await conn.send('NACK', { seq: item.frame.seq, offset: receiver.offset });
        }
        continue;
      }
      nacked = -1;
      const offset = receiver.offset;
      const seq = item.frame.seq;
      const ack = done
        .then(() => conn.send('ACK', { seq, offset, durable: receiver.durable }))
        .then(() => this.emit('progress', { id: info.id, bytes: offset, total: info.size, entries: 0 }))
        .catch((err: unknown) => (failed ??= err));
      pending.push(ack);
      void ack.finally(() => pending.splice(pending.indexOf(ack), 1));
      if (pending.length >= WRITES_AHEAD) await Promise.race(pending);
    }
  }

  /** Where snapshot `id` is stored. */
  pathOf(id: string): string {
    return path.join(this.options.dir, this.options.fileName ? this.options.fileName(id) : id);
  }

  /** Removes partials nobody has written to for `partialTtl`. */
  async expirePartials(): Promise<string[]> {
    const ttl = this.options.partialTtl ?? 24 * 3600 * 1000;
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

