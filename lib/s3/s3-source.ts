/**
 * S3Source: a Readable of an S3 object's bytes (or a range of them) that survives dropped
 * connections: when a response body fails or stalls, it asks again from the first byte it has
 * not yet delivered, with exponential backoff, up to `retries` times without progress. Each
 * follow-up request is pinned to the object's ETag, so a replaced object is an error, never a
 * splice of two objects. Memory is bounded by backpressure: the body is paused while the
 * consumer is behind.
 */
import { Readable } from 'node:stream';
import type { GetObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import { sdk } from './sdk.js';
import { ChecksumError, InvalidArgumentError, NetworkError, ProtocolError, TimeoutError } from '../errors.js';
import { isTransientS3Error, s3ErrorName, wrapS3Error } from './s3-errors.js';

/** Options for an {@link S3Source}. */
export interface S3SourceOptions {
  /** The S3 client to send requests with ({@link createS3Client} makes one). */
  client: S3Client;
  /** The object's bucket. */
  bucket: string;
  /** The object's key. */
  key: string;
  /** First byte to read. Default 0. */
  start?: number;
  /** Byte after the last to read. Default: the object's end. */
  end?: number;
  /** Failed attempts in a row (without a byte of progress) before giving up. Default 5. */
  retries?: number;
  /** First backoff in ms, doubled each failed attempt (with jitter), at most `maxBackoffMs`. Default 200. */
  backoffMs?: number;
  /** Longest backoff in ms. Default 5000. */
  maxBackoffMs?: number;
  /** A body that delivers nothing for this long (while the consumer wants data) is dropped and asked again. Default 30 s. */
  idleTimeoutMs?: number;
  /** Buffering threshold of the readable side, in bytes. Default 1 MiB. */
  highWaterMark?: number;
  /** Aborting this signal destroys the stream with Node's `AbortError` and stops its requests. */
  signal?: AbortSignal;
  /**
   * Read only this version of the object (its ETag, from a HEAD or a listing): the first request
   * is pinned to it too, so an object replaced since fails with SNAP_ERR_CHECKSUM. Default: the
   * ETag of the first response.
   */
  etag?: string;
}

type Body = Readable & { destroy(error?: Error): Body };

/**
 * A Readable of an S3 object's bytes (or a range of them) that asks again from the first byte not
 * yet delivered when a response fails or stalls, every request after the first pinned to the
 * object's ETag. Made by {@link createS3Source}.
 */
export class S3Source extends Readable {
  /** Offset of the next byte to deliver. */
  position: number;
  /** Object size, once the first response has said. */
  objectSize: number | null = null;
  /** The object's ETag, once known. */
  etag: string | null = null;
  /** Requests made after a failure. */
  resumes = 0;

  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly key: string;
  private end: number | null;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly idleTimeoutMs: number;
  private readonly requests = new AbortController();
  private body: Body | null = null;
  private requesting = false;
  private failures = 0;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(options: S3SourceOptions) {
    // Checked before the stream exists: a stream that throws in its constructor must not open.
    super({ highWaterMark: options.highWaterMark ?? 1024 * 1024, ...checkSourceOptions(options) });
    const start = options.start ?? 0;
    this.client = options.client;
    this.bucket = options.bucket;
    this.key = options.key;
    this.position = start;
    this.end = options.end ?? null;
    this.retries = options.retries ?? 5;
    this.backoffMs = options.backoffMs ?? 200;
    this.maxBackoffMs = options.maxBackoffMs ?? 5000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    this.etag = options.etag ?? null;
  }

  override _read(): void {
    if (this.body) {
      this.body.resume();
      this.armIdleTimer();
    } else if (!this.requesting) {
      void this.request();
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.requests.abort();
    this.clearIdleTimer();
    this.body?.destroy();
    this.body = null;
    callback(error);
  }

  private where(): string {
    return `s3://${this.bucket}/${this.key}`;
  }

  private async request(): Promise<void> {
    if (this.end !== null && this.position >= this.end) {
      this.push(null);
      return;
    }
    this.requesting = true;
    let res: GetObjectCommandOutput;
    try {
      const range = this.position === 0 && this.end === null ? undefined : `bytes=${this.position}-${this.end === null ? '' : this.end - 1}`;
      res = await this.client.send(
        new sdk.GetObjectCommand({
          Bucket: this.bucket,
          Key: this.key,
          ...(range ? { Range: range } : {}),
          ...(this.etag ? { IfMatch: this.etag } : {}),
        }),
        { abortSignal: this.requests.signal },
      );
    } catch (err) {
      this.requesting = false;
      if (this.destroyed) return;
      const name = s3ErrorName(err);
      if (name === 'InvalidRange' && this.objectSize === null && this.position > 0) {
        this.fail(new InvalidArgumentError(`start ${this.position} is past the end of ${this.where()}`, { cause: err }));
      } else if (name === 'PreconditionFailed') {
        this.fail(new ChecksumError(`${this.where()} was replaced while it was being read (at byte ${this.position})`, { offset: this.position, cause: err }));
      } else {
        this.retry(err);
      }
      return;
    }
    this.requesting = false;
    if (this.destroyed) {
      (res.Body as Body | undefined)?.destroy();
      return;
    }
    this.etag ??= res.ETag ?? null;
    // A server that ignores the range would repeat bytes already delivered.
    const rangeStart = /^bytes (\d+)-/.exec(res.ContentRange ?? '')?.[1];
    if (this.position > 0 && Number(rangeStart) !== this.position) {
      (res.Body as Body | undefined)?.destroy();
      this.fail(new ProtocolError(`${this.where()} answered a request from byte ${this.position} with ${res.ContentRange ? `range ${res.ContentRange}` : 'the whole object'}`));
      return;
    }
    const total = totalSize(res);
    if (total !== null) {
      this.objectSize = total;
      if (this.end === null || this.end > total) this.end = total;
    }
    this.attach(res.Body as Body);
  }

  private attach(body: Body): void {
    this.body = body;
    let settled = false;
    const dropped = (err: unknown): void => {
      if (settled) return;
      settled = true;
      this.clearIdleTimer();
      this.body = null;
      body.destroy();
      if (!this.destroyed) this.retry(err);
    };
    body.on('data', (chunk: Buffer) => {
      this.failures = 0;
      // Never deliver past `end`, whatever the server sends.
      const room = this.end === null ? chunk.length : Math.max(0, this.end - this.position);
      const piece = room < chunk.length ? chunk.subarray(0, room) : chunk;
      this.position += piece.length;
      this.armIdleTimer();
      if (piece.length > 0 && !this.push(piece)) {
        body.pause();
        this.clearIdleTimer();
      }
    });
    body.on('error', dropped);
    body.on('aborted', () => dropped(new NetworkError('the connection was cut mid-body')));
    body.on('end', () => {
      if (settled) return;
      if (this.end !== null && this.position < this.end) {
        dropped(new NetworkError(`the body ended at byte ${this.position} of ${this.end}`));
        return;
      }
      settled = true;
      this.clearIdleTimer();
      this.body = null;
      this.push(null);
    });
    this.armIdleTimer();
  }

  private retry(err: unknown): void {
    if (this.failures >= this.retries || !(isTransientS3Error(err) || err instanceof NetworkError)) {
      this.fail(wrapS3Error(err, `reading ${this.where()} at byte ${this.position}`));
      return;
    }
    const delay = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** this.failures) * (0.5 + Math.random() / 2);
    this.failures++;
    this.resumes++;
    this.emit('retry', { position: this.position, attempt: this.failures, delay, error: err });
    this.requesting = true; // _read must not start a second request during the wait
    const cancel = (): void => clearTimeout(timer);
    const timer = setTimeout(() => {
      this.requests.signal.removeEventListener('abort', cancel);
      this.requesting = false;
      if (!this.destroyed) void this.request();
    }, delay);
    this.requests.signal.addEventListener('abort', cancel, { once: true });
  }

  private fail(err: Error): void {
    this.destroy(err);
  }

  private armIdleTimer(): void {
    this.clearIdleTimer();
    const body = this.body;
    if (!body) return;
    this.idleTimer = setTimeout(() => {
      body.emit('error', new TimeoutError(`nothing arrived from ${this.where()} for ${this.idleTimeoutMs} ms`));
    }, this.idleTimeoutMs);
    this.idleTimer.unref();
  }

  private clearIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}

/** The object's size from Content-Range (`bytes a-b/size`) or, for a whole-object GET, Content-Length. */
function totalSize(res: GetObjectCommandOutput): number | null {
  const m = /\/(\d+)$/.exec(res.ContentRange ?? '');
  if (m) return Number(m[1]);
  return res.ContentLength ?? null;
}

/** Throws on bad options; returns the Readable options. */
function checkSourceOptions(options: S3SourceOptions): { signal?: AbortSignal } {
  const start = options.start ?? 0;
  if (!Number.isSafeInteger(start) || start < 0) throw new InvalidArgumentError('start must be a non-negative integer');
  if (options.end !== undefined && (!Number.isSafeInteger(options.end) || options.end < start)) {
    throw new InvalidArgumentError('end must be an integer no less than start');
  }
  if (!options.client || !options.bucket || !options.key) throw new InvalidArgumentError('client, bucket and key are required');
  return options.signal ? { signal: options.signal } : {};
}

/** Creates an {@link S3Source}. */
export function createS3Source(options: S3SourceOptions): S3Source {
  return new S3Source(options);
}
