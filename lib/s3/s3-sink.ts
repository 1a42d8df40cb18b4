/**
 * S3Sink: a Writable that streams bytes into an S3 object as a multipart upload, in bounded
 * memory (at most `concurrency + 1` parts of `partSize` bytes held), and resumes an interrupted
 * upload instead of starting again.
 *
 * Resuming: opening lists the parts the server already holds for the key's upload and keeps
 * the run of them from part 1 that `<key>.upload.json` (see upload-state.ts) recorded. Call
 * `await sink.resumeOffset()` before writing and write from that offset: nothing before it is
 * read or sent again. A writer that starts from byte 0 anyway has the kept prefix checked
 * against the recorded CRC and skipped (read again, not sent again).
 *
 * Publishing: the object is completed only after the stream's own trailer (a snapshot footer
 * or a CRC trailer) verifies against the CRC32 of every byte before it; a stream that fails is
 * aborted, so no damaged object ever appears under the key. The multipart upload starts with
 * the first whole part: a stream shorter than one part is verified and sent as one PutObject.
 * An error or destroy keeps the upload for the next attempt; `abortS3Upload` gives it up.
 */
import { Writable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { sdk } from './sdk.js';
import { ChecksumError, InvalidArgumentError, LimitError } from '../errors.js';
import { TailCrc, type TailCrcState, type TrailerKind } from '../format/stream-trailer.js';
import { s3ErrorName, wrapS3Error } from './s3-errors.js';
import {
  abortS3Upload,
  abortUploadId,
  deleteUploadState,
  listUploads,
  readUploadState,
  tailFromRecord,
  tailToRecord,
  writeUploadState,
  type RecordedPart,
  type UploadState,
} from './upload-state.js';
import { S3_MAX_PART_SIZE, S3_MAX_PARTS, S3_MIN_PART_SIZE } from './s3-limits.js';

export { S3_MAX_PARTS, S3_MIN_PART_SIZE };
/** S3Sink's default part size: 8 MiB. */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
const DEFAULT_CONCURRENCY = 4;

/** Options for an {@link S3Sink}. */
export interface S3SinkOptions {
  /** The S3 client to send requests with ({@link createS3Client} makes one). */
  client: S3Client;
  /** The bucket to upload into. */
  bucket: string;
  /** The object's key. */
  key: string;
  /** Bytes per part, 5 MiB to 5 GiB; default 8 MiB. A resumed upload keeps the size it began with. */
  partSize?: number;
  /** Parts uploading at once. Default 4. */
  concurrency?: number;
  /** Continue an interrupted upload to the same key. Default true. */
  resume?: boolean;
  /** Refuse to complete unless the stream's trailer verifies. Default true. */
  verify?: boolean;
  /** User metadata stored with the object (`x-amz-meta-*`). */
  metadata?: Record<string, string>;
  /** The object's Content-Type. Default `application/octet-stream`. */
  contentType?: string;
  /** Aborting this signal destroys the sink with Node's `AbortError`; the upload is kept to resume. */
  signal?: AbortSignal;
}

/** The object an {@link S3Sink} completed. */
export interface S3UploadResult {
  /** The object's bucket. */
  bucket: string;
  /** The object's key. */
  key: string;
  /** The completed object's ETag (empty if the server gave none). */
  etag: string;
  /** Object size. */
  bytes: number;
  /** Parts the object was assembled from. */
  parts: number;
  /** Parts this run sent. */
  partsSent: number;
  /** Parts an earlier run had sent and this one kept. */
  partsResumed: number;
  /** The trailer that verified, or null with `verify: false`. */
  trailer: TrailerKind | null;
}

interface OpenedUpload {
  /** The record kept in the bucket (rewritten as `state.parts` grows). */
  state: UploadState;
  /** Every part acknowledged so far, by part number (the kept ones first): what completing names. */
  parts: RecordedPart[];
  /** Bytes the kept parts hold. */
  offset: number;
  /** The stream's TailCrc state at `offset`. */
  tail: TailCrcState;
}

/**
 * Bytes → an S3 object, by a resumable multipart upload in bounded memory; the object is
 * completed only once the stream's trailer (snapshot footer or CRC trailer) verifies. Made by
 * {@link createS3Sink}.
 */
export class S3Sink extends Writable {
  /** Set once the object is complete. */
  result: S3UploadResult | null = null;
  /** Parts sent by this sink so far. */
  partsSent = 0;
  /** Parts kept from an interrupted upload (known once open). */
  partsResumed = 0;
  /** The part size asked for in the options (a resumed upload keeps its own: see `partSize`). */
  readonly partSizeWanted: number;

  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly key: string;
  private readonly concurrency: number;
  private readonly verifyTrailer: boolean;
  private readonly opening: Promise<OpenedUpload>;
  private readonly requests = new AbortController();
  private upload!: OpenedUpload;
  private callerResumes = false;
  private started = false;
  /** Stream offset of the next byte written to this sink. */
  private position = 0;
  private crc = new TailCrc();
  private part: Buffer | null = null;
  private partLength = 0;
  private nextPart = 1;
  private readonly free: Buffer[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private stateWriting: Promise<void> | null = null;
  /** The multipart upload being started (see startUpload). */
  private starting: Promise<string> | null = null;
  /** A state record is (or may be) in the bucket: removed once the object is published. */
  private recordInBucket = false;
  private stateDirty = false;
  private failure: Error | null = null;

  constructor(private readonly options: S3SinkOptions) {
    // Checked before the stream exists: a stream that throws in its constructor must not open.
    super({ highWaterMark: 1024 * 1024, ...checkSinkOptions(options) });
    const partSize = options.partSize ?? DEFAULT_PART_SIZE;
    const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    this.client = options.client;
    this.bucket = options.bucket;
    this.key = options.key;
    this.partSizeWanted = partSize;
    this.concurrency = concurrency;
    this.verifyTrailer = options.verify ?? true;
    this.opening = this.open();
    this.opening.catch(() => {}); // reported through _construct
  }

  /**
   * The offset to write from: the bytes the kept parts of an interrupted upload hold (0 for a
   * new upload). Calling it promises that the first byte written is the byte at that offset.
   */
  async resumeOffset(): Promise<number> {
    if (this.started || this.writableLength > 0) throw new InvalidArgumentError('resumeOffset() must be called before the first write');
    this.callerResumes = true;
    try {
      return (await this.opening).offset;
    } catch (err) {
      // The caller has the error; the stream's own 'error' event must not crash a process that
      // never piped into it.
      this.once('error', () => {});
      throw err;
    }
  }

  /** The part size in use (a resumed upload's own). */
  get partSize(): number {
    return this.upload?.state.partSize ?? this.partSizeWanted;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.opening.then(
      (upload) => {
        this.upload = upload;
        this.partsResumed = upload.parts.length;
        this.nextPart = upload.parts.length + 1;
        callback();
      },
      (err: Error) => callback(err),
    );
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.take(chunk).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.finish().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // The upload and its recorded parts stay for the next attempt; only requests in flight stop.
    this.requests.abort();
    this.free.length = 0;
    this.part = null;
    callback(error);
  }

  private async open(): Promise<OpenedUpload> {
    const { client, bucket, key } = this;
    const [recorded, uploads] = await Promise.all([
      this.options.resume === false ? null : readUploadState(client, bucket, key),
      listUploads(client, bucket, key),
    ]);
    const kept = recorded && uploads.includes(recorded.uploadId) ? await this.keptUpload(recorded) : null;
    // Other unfinished uploads to this key are earlier attempts, given up (a new upload's state
    // record replaces theirs below).
    for (const id of uploads) if (id !== kept?.state.uploadId) await abortUploadId(client, bucket, key, id);
    // A record no upload matches is an earlier attempt's: removed once this one is published
    // (with resume: false it was not read, so it may be there).
    this.recordInBucket = recorded !== null || this.options.resume === false;
    if (kept) return kept;
    // The multipart upload itself starts with the first whole part (startUpload): a stream that
    // ends before filling one is a single PutObject.
    return { state: { version: 2, key, uploadId: '', partSize: this.partSizeWanted, parts: 0 }, parts: [], offset: 0, tail: new TailCrc().state() };
  }

  /** The upload's id, starting the multipart upload on first call when there is none yet. */
  private startUpload(): Promise<string> {
    if (this.upload.state.uploadId) return Promise.resolve(this.upload.state.uploadId);
    this.starting ??= (async () => {
      try {
        const res = await this.client.send(
          new sdk.CreateMultipartUploadCommand({
            Bucket: this.bucket,
            Key: this.key,
            ...(this.options.metadata ? { Metadata: this.options.metadata } : {}),
            ContentType: this.options.contentType ?? 'application/octet-stream',
          }),
          { abortSignal: this.requests.signal },
        );
        // Parts need not wait for a record: an upload a crash leaves without one is given up
        // by the next attempt (open) like any other stray.
        return (this.upload.state.uploadId = res.UploadId!);
      } catch (err) {
        throw wrapS3Error(err, `starting an upload to s3://${this.bucket}/${this.key}`);
      }
    })();
    return this.starting;
  }

  /**
   * The interrupted upload to resume: the parts the record counts, if the server holds each of
   * them whole (else, the record and the server disagreeing, none: a new upload starts).
   */
  private async keptUpload(state: UploadState): Promise<OpenedUpload | null> {
    const held = await this.listParts(state.uploadId);
    if (!held) return null;
    const parts: RecordedPart[] = [];
    for (let n = 1; n <= state.parts; n++) {
      const h = held.get(n);
      if (!h || h.size !== state.partSize) return null;
      parts.push({ partNumber: n, size: h.size, etag: h.etag });
    }
    if (state.end && parts.length > 0) parts.at(-1)!.end = state.end;
    return {
      state: { ...state },
      parts,
      offset: parts.length * state.partSize,
      tail: state.end && parts.length > 0 ? tailFromRecord(state.end) : new TailCrc().state(),
    };
  }

  /** The parts the server holds for an upload, or null when the upload is gone. */
  private async listParts(uploadId: string): Promise<Map<number, { size: number; etag: string }> | null> {
    const parts = new Map<number, { size: number; etag: string }>();
    let marker: string | undefined;
    try {
      for (;;) {
        const res = await this.client.send(
          new sdk.ListPartsCommand({ Bucket: this.bucket, Key: this.key, UploadId: uploadId, PartNumberMarker: marker }),
        );
        for (const p of res.Parts ?? []) parts.set(p.PartNumber!, { size: p.Size!, etag: p.ETag! });
        if (!res.IsTruncated) return parts;
        marker = res.NextPartNumberMarker;
      }
    } catch (err) {
      if (s3ErrorName(err) === 'NoSuchUpload') return null;
      throw wrapS3Error(err, `listing the parts of the upload to s3://${this.bucket}/${this.key}`);
    }
  }

  private begin(): void {
    this.started = true;
    if (this.callerResumes) {
      this.position = this.upload.offset;
      this.crc = new TailCrc(this.upload.tail);
    }
  }

  private async take(chunk: Buffer): Promise<void> {
    if (!this.started) this.begin();
    if (this.failure) throw this.failure;
    let at = 0;
    // A writer from byte 0 over kept parts: check what it repeats, send none of it.
    if (this.position < this.upload.offset) {
      at = Math.min(chunk.length, this.upload.offset - this.position);
      this.crc.update(chunk.subarray(0, at));
      this.position += at;
      if (this.position === this.upload.offset) this.checkRepeatedPrefix();
    }
    while (at < chunk.length) {
      if (!this.part) this.part = this.free.pop() ?? Buffer.allocUnsafe(this.partSize);
      const n = Math.min(chunk.length - at, this.partSize - this.partLength);
      const piece = chunk.subarray(at, at + n);
      piece.copy(this.part, this.partLength);
      this.crc.update(piece);
      this.partLength += n;
      this.position += n;
      at += n;
      if (this.partLength === this.partSize) await this.seal();
    }
  }

  private checkRepeatedPrefix(): void {
    const now = this.crc.state();
    const want = this.upload.tail;
    if (now.crc !== want.crc || !now.tail.equals(want.tail)) {
      throw new ChecksumError(
        `the stream differs from the interrupted upload to s3://${this.bucket}/${this.key} in its first ${this.upload.offset} bytes; abort that upload (abortS3Upload) to start again`,
        { offset: this.upload.offset, expected: want.crc, actual: now.crc },
      );
    }
  }

  /** Sends the part being filled; waits while `concurrency` parts are in flight. */
  private async seal(): Promise<void> {
    const partNumber = this.nextPart++;
    if (partNumber > S3_MAX_PARTS) {
      throw new LimitError(`the stream needs more than ${S3_MAX_PARTS} parts of ${this.partSize} bytes: use a larger partSize`);
    }
    const buffer = this.part ?? Buffer.alloc(0); // an empty stream still needs one part
    const size = this.partLength;
    const end = tailToRecord(this.crc.state());
    this.part = null;
    this.partLength = 0;
    const sending = this.sendPart(partNumber, buffer, size, end).then(
      () => {
        this.inFlight.delete(sending);
      },
      (err: Error) => {
        this.inFlight.delete(sending);
        this.failure ??= err;
      },
    );
    this.inFlight.add(sending);
    while (this.inFlight.size >= this.concurrency) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
  }

  private async sendPart(partNumber: number, buffer: Buffer, size: number, end: NonNullable<RecordedPart['end']>): Promise<void> {
    let etag: string;
    const uploadId = await this.startUpload();
    try {
      const res = await this.client.send(
        new sdk.UploadPartCommand({
          Bucket: this.bucket,
          Key: this.key,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: buffer.subarray(0, size),
          ContentLength: size,
        }),
        { abortSignal: this.requests.signal },
      );
      etag = res.ETag!;
    } catch (err) {
      throw wrapS3Error(err, `sending part ${partNumber} to s3://${this.bucket}/${this.key}`);
    }
    if (buffer.length === this.partSize && !this.destroyed) this.free.push(buffer);
    this.partsSent++;
    const { parts, state } = this.upload;
    // Part numbers are unique and acknowledgements come nearly in order (a few parts in flight):
    // insert from the end rather than re-sort every part per acknowledgement.
    let at = parts.length;
    while (at > 0 && parts[at - 1]!.partNumber > partNumber) at--;
    parts.splice(at, 0, { partNumber, size, etag, end });
    this.emit('part', { partNumber, size });
    // The record moves on only when the run of whole parts from part 1 does.
    const run = state.parts;
    while (parts[state.parts]?.partNumber === state.parts + 1 && parts[state.parts]!.size === state.partSize) state.parts++;
    if (state.parts > run) {
      state.end = parts[state.parts - 1]!.end!;
      this.recordState();
    }
  }

  /**
   * Writes the state record in the background, one write at a time; parts acknowledged while a
   * write is under way share the next one (a record per part would cost a request per part).
   * The part's slot is free meanwhile; finish() waits for the last write.
   */
  private recordState(): void {
    this.stateDirty = true;
    if (this.stateWriting) return;
    this.stateWriting = (async () => {
      try {
        while (this.stateDirty) {
          this.stateDirty = false;
          // Serialised at once: parts acknowledged while it is sent go in the next write.
          this.recordInBucket = true;
          await writeUploadState(this.client, this.bucket, this.upload.state);
        }
      } catch (err) {
        this.failure ??= err as Error;
      } finally {
        // In the same turn as the last check of stateDirty: no update can fall in between.
        this.stateWriting = null;
      }
    })();
  }

  private async finish(): Promise<void> {
    if (!this.started) this.begin();
    if (this.position < this.upload.offset) {
      throw new ChecksumError(`the stream ended at byte ${this.position}, before the ${this.upload.offset} bytes the interrupted upload already holds`, {
        offset: this.position,
      });
    }
    // The whole stream fits in the part being filled and no upload was started: one request.
    if (this.nextPart === 1 && !this.upload.state.uploadId) return this.putWhole();
    // (An upload kept with no parts still needs one, if only an empty one.)
    if (this.partLength > 0 || this.nextPart === 1) await this.seal();
    while (this.inFlight.size > 0) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
    while (this.stateWriting) await this.stateWriting;
    if (this.failure) throw this.failure;
    let trailer: TrailerKind | null = null;
    if (this.verifyTrailer) {
      try {
        trailer = this.crc.checkTrailer();
      } catch (err) {
        // A damaged stream never becomes the object; its parts are freed.
        await abortS3Upload({ client: this.client, bucket: this.bucket, key: this.key }).catch(() => {});
        throw err;
      }
    }
    const parts = this.upload.parts;
    let etag: string;
    try {
      const res = await this.client.send(
        new sdk.CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.key,
          UploadId: this.upload.state.uploadId,
          MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
        }),
        { abortSignal: this.requests.signal },
      );
      etag = res.ETag ?? '';
    } catch (err) {
      throw wrapS3Error(err, `completing the upload to s3://${this.bucket}/${this.key}`);
    }
    await this.published(etag, parts.length, trailer);
  }

  /** A stream shorter than a part: verified, then sent as one PutObject. */
  private async putWhole(): Promise<void> {
    // A damaged stream never becomes the object (and there is no upload to abort).
    const trailer = this.verifyTrailer ? this.crc.checkTrailer() : null;
    let etag: string;
    try {
      const res = await this.client.send(
        new sdk.PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key,
          Body: (this.part ?? Buffer.alloc(0)).subarray(0, this.partLength),
          ContentLength: this.partLength,
          ...(this.options.metadata ? { Metadata: this.options.metadata } : {}),
          ContentType: this.options.contentType ?? 'application/octet-stream',
        }),
        { abortSignal: this.requests.signal },
      );
      etag = res.ETag ?? '';
    } catch (err) {
      throw wrapS3Error(err, `uploading s3://${this.bucket}/${this.key}`);
    }
    this.partsSent = 1;
    this.part = null;
    this.emit('part', { partNumber: 1, size: this.partLength });
    await this.published(etag, 1, trailer);
  }

  private async published(etag: string, parts: number, trailer: TrailerKind | null): Promise<void> {
    // The object is published; a record left behind would only be replaced by the next upload.
    if (this.recordInBucket) await deleteUploadState(this.client, this.bucket, this.key).catch(() => {});
    this.result = {
      bucket: this.bucket,
      key: this.key,
      etag,
      bytes: this.crc.length,
      parts,
      partsSent: this.partsSent,
      partsResumed: this.partsResumed,
      trailer,
    };
    this.emit('uploaded', this.result);
  }
}

/** Throws on bad options; returns the Writable options. */
function checkSinkOptions(options: S3SinkOptions): { signal?: AbortSignal } {
  const { bucket, key } = options;
  if (!options.client) throw new InvalidArgumentError('client is required');
  if (typeof bucket !== 'string' || bucket === '' || typeof key !== 'string' || key === '') {
    throw new InvalidArgumentError('bucket and key must be non-empty strings');
  }
  const partSize = options.partSize ?? DEFAULT_PART_SIZE;
  if (!Number.isSafeInteger(partSize) || partSize < S3_MIN_PART_SIZE || partSize > S3_MAX_PART_SIZE) {
    throw new InvalidArgumentError(`partSize must be an integer from ${S3_MIN_PART_SIZE} to ${S3_MAX_PART_SIZE}`);
  }
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new InvalidArgumentError('concurrency must be an integer from 1 to 64');
  }
  return options.signal ? { signal: options.signal } : {};
}

/** Creates an {@link S3Sink}. */
export function createS3Sink(options: S3SinkOptions): S3Sink {
  return new S3Sink(options);
}
