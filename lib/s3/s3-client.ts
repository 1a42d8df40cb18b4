/**
 * An S3 client set up for S3-compatible servers (Ceph radosgw, MinIO) as well as AWS:
 * path-style addressing (no bucket DNS names on a private endpoint) and checksums only where the
 * API requires them (radosgw rejects the SDK's default streamed-checksum trailers on parts).
 */
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { sdk } from './sdk.js';
import { InvalidArgumentError } from '../errors.js';

/** Where and how to connect to S3; anything unset comes from the standard AWS environment variables. */
export interface S3ConnectionOptions {
  /** `http://127.0.0.1:7480`; default `$AWS_ENDPOINT_URL_S3` or `$AWS_ENDPOINT_URL` (none: AWS itself). */
  endpoint?: string;
  /** Default `$AWS_REGION`, `$AWS_DEFAULT_REGION`, else `us-east-1` (radosgw ignores it). */
  region?: string;
  /** Default `$AWS_ACCESS_KEY_ID` (and the SDK's usual credential chain when unset). */
  accessKeyId?: string;
  /** Default `$AWS_SECRET_ACCESS_KEY`. */
  secretAccessKey?: string;
  /** Attempts per request, the first included (the SDK's retry strategy). Default 4. */
  maxAttempts?: number;
}

/** The connection options from the standard AWS environment variables, overridden by `options`. */
export function s3ConnectionFromEnv(options: S3ConnectionOptions = {}, env: NodeJS.ProcessEnv = process.env): S3ConnectionOptions {
  const pick = (...names: string[]): string | undefined => names.map((n) => env[n]).find((v) => v !== undefined && v !== '');
  const endpoint = options.endpoint ?? pick('AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL');
  const region = options.region ?? pick('AWS_REGION', 'AWS_DEFAULT_REGION');
  const accessKeyId = options.accessKeyId ?? pick('AWS_ACCESS_KEY_ID');
  const secretAccessKey = options.secretAccessKey ?? pick('AWS_SECRET_ACCESS_KEY');
  return {
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
    ...(accessKeyId ? { accessKeyId } : {}),
    ...(secretAccessKey ? { secretAccessKey } : {}),
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
  };
}

/** Creates an `S3Client` for `options` (see {@link s3ConnectionFromEnv} for the environment defaults). */
export function createS3Client(options: S3ConnectionOptions = {}): S3Client {
  const o = s3ConnectionFromEnv(options);
  if (o.endpoint !== undefined && !/^https?:\/\/[^/]+/.test(o.endpoint)) {
    throw new InvalidArgumentError(`endpoint must be an http:// or https:// URL, not ${JSON.stringify(o.endpoint)}`);
  }
  if ((o.accessKeyId === undefined) !== (o.secretAccessKey === undefined)) {
    throw new InvalidArgumentError('give both an access key id and a secret access key, or neither');
  }
  const config: S3ClientConfig = {
    region: o.region ?? 'us-east-1',
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: o.maxAttempts ?? 4,
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    ...(o.accessKeyId && o.secretAccessKey ? { credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey } } : {}),
  };
  return new sdk.S3Client(config);
}
