/**
 * A duplex stream (TCP, TLS, Unix socket, a child's stdio) seen as a sequence of wire items,
 * with backpressure both ways: reading pauses the stream while items wait to be handled, and
 * sending waits for `drain`.
 *
 * Chunk frames are refused (a ProtocolError at their first four bytes) until `acceptChunks()`:
 * a receiver calls it once its peer has authenticated, so before that nothing larger than one
 * control message (64 KiB) is ever held for a peer. A ProtocolError stops reading (the stream is
 * paused, what is buffered dropped) but leaves the stream open for writing, so the owner can
 * say why (a REFUSE) before it closes.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { NetworkError, ProtocolError, TimeoutError, wrapIoError } from '../errors.js';
import { encodeMessage, WireParser, type Message, type MessageTypeName, type WireItem } from './wire.js';

const QUEUE_PAUSE = 2;

export class WireConnection {
  private readonly parser: WireParser;
  private readonly queue: WireItem[] = [];
  private waiter: { resolve: (item: WireItem) => void; reject: (err: Error) => void } | null = null;
  private readonly drainWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private failure: Error | null = null;
  /** Set when the incoming bytes broke the protocol: nothing more is read, but we may still write. */
  private readFailure: Error | null = null;
  /** Bytes received and sent, for progress and rate figures. */
  bytesIn = 0;
  bytesOut = 0;
  /** Writes are held (corked) until the current turn of the event loop has done its I/O. */
  private corked = false;

  constructor(
    readonly stream: Duplex,
    maxChunkSize?: number,
  ) {
    this.parser = new WireParser(maxChunkSize);
    // Small control messages (COPY, ACK, NACK) go out at once: Nagle's algorithm held each one
    // back until the peer's delayed ACK, ~40 ms per round trip of a delta transfer.
    (stream as Partial<Socket>).setNoDelay?.(true);
    this.parser.chunks = false;
    stream.on('data', (data: Buffer) => this.onData(data));
    stream.on('drain', () => this.drained());
    stream.on('end', () => this.fail(new NetworkError('the connection was closed by the peer')));
    stream.on('close', () => this.fail(new NetworkError('the connection was closed')));
    stream.on('error', (err) => this.fail(new NetworkError(`connection failed: ${err.message}`, { cause: err })));
    // A stream that failed or closed before we listened would otherwise never tell us.
    if (stream.destroyed) {
      const cause = stream.errored;
      this.fail(new NetworkError(`the connection is already closed${cause ? `: ${cause.message}` : ''}`, cause ? { cause } : {}));
    }
  }

  /** Takes chunk frames from here on (the peer has authenticated). */
  acceptChunks(): void {
    this.parser.chunks = true;
  }

  /** The next message or chunk; rejects if the connection fails or nothing comes within `timeoutMs`. */
  next(timeoutMs: number): Promise<WireItem> {
    const item = this.queue.shift();
    if (item) {
      if (this.queue.length < QUEUE_PAUSE && this.stream.isPaused() && !this.readFailure) this.stream.resume();
      return Promise.resolve(item);
    }
    const failure = this.readFailure ?? this.failure;
    if (failure) return Promise.reject(failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new TimeoutError(`nothing received for ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = {
        resolve: (i) => {
          clearTimeout(timer);
          resolve(i);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      if (this.stream.isPaused() && !this.readFailure) this.stream.resume();
    });
  }

  /** The next control message, which must be one of `types`. */
  async expect(types: MessageTypeName[], timeoutMs: number): Promise<Message> {
    const item = await this.next(timeoutMs);
    if (item.kind !== 'message' || !types.includes(item.message.type)) {
      const got = item.kind === 'message' ? item.message.type : 'a chunk';
      throw new ProtocolError(`expected ${types.join(' or ')}, got ${got}`);
    }
    return item.message;
  }

  send(type: MessageTypeName, body: Record<string, unknown>): Promise<void> {
    return this.write([encodeMessage(type, body)]);
  }

  /**
   * Writes buffers in order, resolving once the stream can take more. What is written in one
   * turn of the event loop goes out together, in one system call: a delta transfer answers
   * thousands of small items (COPY, ACK), and one write each cost both peers a system call and
   * a wake-up per message.
   */
  write(buffers: Buffer[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.corked && typeof this.stream.cork === 'function') {
      this.corked = true;
      this.stream.cork();
      setImmediate(() => this.flush());
    }
    let ok = true;
    for (const b of buffers) {
      ok = this.stream.write(b);
      this.bytesOut += b.length;
    }
    if (ok) return Promise.resolve();
    return new Promise((resolve, reject) => this.drainWaiters.push({ resolve, reject }));
  }

  /** Sends what is held now. */
  private flush(): void {
    if (!this.corked) return;
    this.corked = false;
    this.stream.uncork();
  }

  private drained(): void {
    const waiters = this.drainWaiters.splice(0);
    for (const w of waiters) {
      if (this.failure) w.reject(this.failure);
      else w.resolve();
    }
  }

  /** Ends our side, then closes. */
  close(): void {
    this.flush();
    if (!this.stream.destroyed) this.stream.end();
    setTimeout(() => this.stream.destroy(), 1000).unref();
  }

  /** Drops the connection at once (what was written before goes out first, as far as it can). */
  destroy(): void {
    this.flush();
    this.stream.destroy();
  }

  private onData(data: Buffer): void {
    if (this.readFailure) {
      this.stream.pause();
      return;
    }
    this.bytesIn += data.length;
    this.parser.push(data);
    try {
      for (let item = this.parser.next(); item; item = this.parser.next()) {
        const w = this.waiter;
        if (w) {
          this.waiter = null;
          w.resolve(item);
        } else this.queue.push(item);
      }
    } catch (err) {
      this.failRead(wrapIoError(err, 'reading the connection'));
      return;
    }
    if (this.queue.length >= QUEUE_PAUSE) this.stream.pause();
  }

  /** The peer broke the protocol: stop reading and drop what is buffered; writing still works. */
  private failRead(err: Error): void {
    this.readFailure ??= err;
    this.parser.clear();
    this.stream.pause();
    const w = this.waiter;
    this.waiter = null;
    w?.reject(err);
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const w = this.waiter;
    this.waiter = null;
    w?.reject(err);
    this.drained();
  }
}
