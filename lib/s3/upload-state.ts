/**
 * What a resumable S3 upload keeps in the bucket beside its target: `<key>.upload.json`, written
 * as the run of parts the server has acknowledged from part 1 on grows. Listing the upload's
 * parts says which parts the server holds; this record adds what a listing cannot give, the
 * running CRC of the stream at the run's end, so a resumed upload verifies the whole stream
 * without reading the sent parts again. It stays a few hundred bytes however many parts.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { sdk } from './sdk.js';
import { FormatError } from '../errors.js';
import type { TailCrcState } from '../format/stream-trailer.js';
import { s3ErrorName, wrapS3Error } from './s3-errors.js';
import { S3_MAX_PART_SIZE, S3_MIN_PART_SIZE } from './s3-limits.js';

/** A part the server has acknowledged, as the sink keeps it in memory (for completing). */
export interface RecordedPart {
  partNumber: number;
  size: number;
  etag: string;
  /** The stream's TailCrc state at the end of this part (known for the parts this run sent, and the last kept one). */
  end?: { length: number; crc: number; tail: string };
}

/**
 * The record in the bucket. Its size does not grow with the upload (a record listing every
 * part, rewritten as parts were acknowledged, cost O(parts²) bytes: gigabytes for 10,000 parts):
 * it says how many parts from part 1 on were acknowledged whole, and the stream's running CRC
 * (TailCrc state) at their end; the parts' ETags come from listing the upload.
 */
export interface UploadState {
  version: 2;
  key: string;
  uploadId: string;
  partSize: number;
  /** Parts 1..parts, each `partSize` bytes, all acknowledged. */
  parts: number;
  /** The stream's TailCrc state at the end of part `parts` (absent when `parts` is 0). */
  end?: { length: number; crc: number; tail: string };
}

/** The record of earlier versions: every acknowledged part, with the CRC state at each one's end. */
interface UploadStateV1 {
  version: 1;
  key: string;
  uploadId: string;
  partSize: number;
  parts: Required<RecordedPart>[];
}

/** The key of the state record of an upload to `key`. */
export const uploadStateKey = (key: string): string => `${key}.upload.json`;

export function tailFromRecord(end: NonNullable<RecordedPart['end']>): TailCrcState {
  return { length: end.length, crc: end.crc, tail: Buffer.from(end.tail, 'base64') };
}

export function tailToRecord(state: TailCrcState): NonNullable<RecordedPart['end']> {
  return { length: state.length, crc: state.crc, tail: state.tail.toString('base64') };
}

export async function readUploadState(client: S3Client, bucket: string, key: string): Promise<UploadState | null> {
  let text: string;
  try {
    const res = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: uploadStateKey(key) }));
    text = await res.Body!.transformToString('utf8');
  } catch (err) {
    if (s3ErrorName(err) === 'NoSuchKey') return null;
    throw wrapS3Error(err, `reading the upload state of s3://${bucket}/${key}`);
  }
  let state: UploadState | UploadStateV1;
  try {
    state = JSON.parse(text) as UploadState | UploadStateV1;
  } catch (cause) {
    throw new FormatError(`the upload state of s3://${bucket}/${key} is not JSON`, { cause });
  }
  if (state?.version === 1 && state.key === key && typeof state.uploadId === 'string' && Array.isArray(state.parts)) state = fromV1(state);
  if (
    state?.version !== 2 || state.key !== key || typeof state.uploadId !== 'string' ||
    !Number.isSafeInteger(state.partSize) || state.partSize < S3_MIN_PART_SIZE || state.partSize > S3_MAX_PART_SIZE ||
    !Number.isSafeInteger(state.parts) || state.parts < 0 || (state.parts > 0 && !validEnd(state.end, state.parts * state.partSize))
  ) {
    throw new FormatError(`the upload state of s3://${bucket}/${key} is not one this version understands`);
  }
  return state;
}

/** A TailCrc state for the end of `length` bytes, as a record holds it. */
function validEnd(end: unknown, length: number): boolean {
  const e = end as { length?: unknown; crc?: unknown; tail?: unknown } | undefined;
  return e?.length === length && Number.isInteger(e.crc) && (e.crc as number) >= 0 && (e.crc as number) <= 0xffffffff && typeof e.tail === 'string';
}

/** An earlier version's record, as the leading run of whole parts it lists. */
function fromV1(v1: UploadStateV1): UploadState {
  const byNumber = new Map(v1.parts.map((p) => [p.partNumber, p]));
  let parts = 0;
  while (byNumber.get(parts + 1)?.size === v1.partSize) parts++;
  const end = byNumber.get(parts)?.end;
  return { version: 2, key: v1.key, uploadId: v1.uploadId, partSize: v1.partSize, parts, ...(parts > 0 && end ? { end } : {}) };
}

export async function writeUploadState(client: S3Client, bucket: string, state: UploadState): Promise<void> {
  try {
    await client.send(
      new sdk.PutObjectCommand({ Bucket: bucket, Key: uploadStateKey(state.key), Body: JSON.stringify(state), ContentType: 'application/json' }),
    );
  } catch (err) {
    throw wrapS3Error(err, `recording the upload state of s3://${bucket}/${state.key}`);
  }
}

export async function deleteUploadState(client: S3Client, bucket: string, key: string): Promise<void> {
  try {
    await client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: uploadStateKey(key) }));
  } catch (err) {
    throw wrapS3Error(err, `deleting the upload state of s3://${bucket}/${key}`);
  }
}

/** Ids of the unfinished multipart uploads to exactly `key`. */
export async function listUploads(client: S3Client, bucket: string, key: string): Promise<string[]> {
  const ids: string[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  try {
    for (;;) {
      const res = await client.send(
        new sdk.ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
      );
      for (const u of res.Uploads ?? []) if (u.Key === key && u.UploadId) ids.push(u.UploadId);
      if (!res.IsTruncated) return ids;
      keyMarker = res.NextKeyMarker;
      uploadIdMarker = res.NextUploadIdMarker;
    }
  } catch (err) {
    throw wrapS3Error(err, `listing the uploads to s3://${bucket}/${key}`);
  }
}

/**
 * Aborts every unfinished upload to `key` and removes its state record: the server frees the
 * parts. Resolves with the upload ids aborted.
 */
export async function abortS3Upload(options: { client: S3Client; bucket: string; key: string }): Promise<string[]> {
  const { client, bucket, key } = options;
  const ids = await listUploads(client, bucket, key);
  for (const id of ids) await abortUploadId(client, bucket, key, id);
  await deleteUploadState(client, bucket, key);
  return ids;
}

/** Aborts one upload; one already gone is fine. */
export async function abortUploadId(client: S3Client, bucket: string, key: string, uploadId: string): Promise<void> {
  try {
    await client.send(new sdk.AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
  } catch (err) {
    if (s3ErrorName(err) !== 'NoSuchUpload') throw wrapS3Error(err, `aborting upload ${uploadId} to s3://${bucket}/${key}`);
  }
}
