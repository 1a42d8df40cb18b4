/**
 * S3 failures as snapstream errors with stable codes: a missing bucket, key or upload is
 * NOT_FOUND, refused credentials AUTH, a dropped or refused connection NETWORK, a request that
 * timed out TIMEOUT; anything else the server said is IO, with the SDK's error as the `cause`.
 */
import { AuthError, IoError, NetworkError, NotFoundError, SnapstreamError, TimeoutError } from '../errors.js';

const NOT_FOUND = new Set(['NoSuchKey', 'NoSuchBucket', 'NoSuchUpload', 'NotFound']);
const AUTH = new Set(['CredentialsProviderError', 'RequestTimeTooSkewed', 'AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'Forbidden', 'InvalidToken']);
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_STREAM_PREMATURE_CLOSE']);
const TIMEOUT = new Set(['TimeoutError', 'RequestTimeout', 'ETIMEDOUT']);

interface SdkErrorShape {
  name?: string;
  code?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  message?: string;
}

/** The S3 error name (`NoSuchKey`…) or system error code of `err`. */
export function s3ErrorName(err: unknown): string {
  const e = (err ?? {}) as SdkErrorShape;
  return e.Code ?? e.code ?? e.name ?? 'Error';
}

export function s3Status(err: unknown): number | undefined {
  return ((err ?? {}) as SdkErrorShape).$metadata?.httpStatusCode;
}

/** True when the failure may pass if the request is tried again (network, timeouts, 5xx, throttling). */
export function isTransientS3Error(err: unknown): boolean {
  const name = s3ErrorName(err);
  const status = s3Status(err);
  if (err instanceof NetworkError || err instanceof TimeoutError) return true;
  return NETWORK.has(name) || TIMEOUT.has(name) || name === 'SlowDown' || name === 'ServiceUnavailable' || (status !== undefined && status >= 500);
}

/** Wraps an S3 SDK or socket error; snapstream's own errors and aborts pass through. */
export function wrapS3Error(err: unknown, what: string): Error {
  if (err instanceof SnapstreamError) return err;
  const name = s3ErrorName(err);
  if (name === 'AbortError' || name === 'ABORT_ERR') return err as Error;
  const status = s3Status(err);
  const detail = `${what}: ${name}${status ? ` (HTTP ${status})` : ''}${(err as Error)?.message && (err as Error).message !== name ? `: ${(err as Error).message}` : ''}`;
  if (NOT_FOUND.has(name) || status === 404) return new NotFoundError(detail, { cause: err });
  if (AUTH.has(name) || status === 403) return new AuthError(detail, { cause: err });
  if (TIMEOUT.has(name)) return new TimeoutError(detail, { cause: err });
  if (NETWORK.has(name)) return new NetworkError(detail, { cause: err });
  return new IoError(detail, { cause: err });
}
