/**
 * Every failure snapstream raises is a {@link SnapstreamError} with a stable `code`.
 * Match on `err.code`, never on the message: messages may improve, codes do not change.
 *
 * Node's own abort (`ABORT_ERR`) and premature-close errors pass through untouched.
 */

/** The stable error codes. */
export const ErrorCodes = {
  /** A checksum did not match: the data was changed after it was written. */
  CHECKSUM: 'SNAP_ERR_CHECKSUM',
  /** Input ended before a record, frame or trailer was complete. */
  TRUNCATED: 'SNAP_ERR_TRUNCATED',
  /** Input is not in the expected format (bad magic, impossible field, trailing garbage). */
  FORMAT: 'SNAP_ERR_FORMAT',
  /** A length or count exceeds a configured limit; nothing was allocated for it. */
  LIMIT: 'SNAP_ERR_LIMIT',
  /** The native compressor or decompressor failed; the native error is the `cause`. */
  CODEC: 'SNAP_ERR_CODEC',
  /** A format version, codec or feature this build does not support. */
  UNSUPPORTED: 'SNAP_ERR_UNSUPPORTED',
  /** An option or argument is invalid. */
  INVALID_ARGUMENT: 'SNAP_ERR_INVALID_ARGUMENT',
  /** An entry handed to the encoder is not `{ key, value, expiresAt? }` of the right types. */
  INVALID_ENTRY: 'SNAP_ERR_INVALID_ENTRY',
  /** The disk is full (ENOSPC, EDQUOT); what was already durable is kept. The system error is the `cause`. */
  NO_SPACE: 'SNAP_ERR_NO_SPACE',
  /** Another file-system or I/O failure; the system error is the `cause`. */
  IO: 'SNAP_ERR_IO',
  /** Authentication failed: a wrong or missing shared secret, or a server that could not prove it knows it. */
  AUTH: 'SNAP_ERR_AUTH',
  /** The peer refused the transfer (an invalid id, a limit, busy); `message` says why. */
  REFUSED: 'SNAP_ERR_REFUSED',
  /** The peer broke the transfer protocol. */
  PROTOCOL: 'SNAP_ERR_PROTOCOL',
  /** Nothing arrived in time. */
  TIMEOUT: 'SNAP_ERR_TIMEOUT',
  /** The connection failed or was closed before the transfer finished; the system error is the `cause`. */
  NETWORK: 'SNAP_ERR_NETWORK',
  /** The peer cancelled the transfer. */
  CANCELLED: 'SNAP_ERR_CANCELLED',
  /** Another live process holds the store's lock. */
  LOCKED: 'SNAP_ERR_LOCKED',
  /** No such snapshot, or none that verifies. */
  NOT_FOUND: 'SNAP_ERR_NOT_FOUND',
  /** The snapshot is being read, restored or sent and cannot be deleted now. */
  BUSY: 'SNAP_ERR_BUSY',
  /**
   * A source's state changed under its point-in-time view in a way the view cannot hide (a file
   * rewritten in place, a Map changed behind its patched methods): the snapshot would be torn.
   */
  SOURCE_CHANGED: 'SNAP_ERR_SOURCE_CHANGED',
} as const;

/** One of the {@link ErrorCodes} values, such as `'SNAP_ERR_CHECKSUM'`. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Typed fields an error may carry, for programs that report or recover. */
export interface ErrorDetails {
  /** Byte offset in the stream or file where the problem was found. */
  offset?: number;
  /** Block or chunk sequence number concerned. */
  seq?: number;
  /** What was expected (a checksum, a length, a magic number). */
  expected?: number | string;
  /** What was found instead. */
  actual?: number | string;
  /** The underlying error, for wrapped native and system errors. */
  cause?: unknown;
}

/** Base class of every snapstream error. */
export class SnapstreamError extends Error {
  /** The stable code to match on; see {@link ErrorCodes}. */
  readonly code: ErrorCode;
  /** Byte offset in the stream or file where the problem was found, when known. */
  readonly offset?: number;
  /** Block or chunk sequence number concerned, when known. */
  readonly seq?: number;
  /** What was expected (a checksum, a length, a magic number), when known. */
  readonly expected?: number | string;
  /** What was found instead, when known. */
  readonly actual?: number | string;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    if (details.offset !== undefined) this.offset = details.offset;
    if (details.seq !== undefined) this.seq = details.seq;
    if (details.expected !== undefined) this.expected = details.expected;
    if (details.actual !== undefined) this.actual = details.actual;
  }

  /** The subclass's name, such as `'ChecksumError'`. */
  override get name(): string {
    return this.constructor.name;
  }
}

/**
 * The one table every error class comes from (Node's `E()` style): the class name and the message
 * used when a caller gives none. Adding a code means adding a row here and an export below.
 */
const errorTable = {
  CHECKSUM: { name: 'ChecksumError', message: 'a checksum did not match' },
  TRUNCATED: { name: 'TruncatedError', message: 'the input ended early' },
  FORMAT: { name: 'FormatError', message: 'the input is malformed' },
  LIMIT: { name: 'LimitError', message: 'a declared size exceeds a limit' },
  CODEC: { name: 'CodecError', message: 'the codec failed' },
  UNSUPPORTED: { name: 'UnsupportedError', message: 'not supported by this build' },
  INVALID_ARGUMENT: { name: 'InvalidArgumentError', message: 'invalid argument' },
  INVALID_ENTRY: { name: 'InvalidEntryError', message: 'invalid entry' },
  NO_SPACE: { name: 'NoSpaceError', message: 'no space left on device' },
  IO: { name: 'IoError', message: 'I/O failed' },
  AUTH: { name: 'AuthError', message: 'authentication failed' },
  REFUSED: { name: 'RefusedError', message: 'the peer refused' },
  PROTOCOL: { name: 'ProtocolError', message: 'the peer broke the protocol' },
  TIMEOUT: { name: 'TimeoutError', message: 'timed out' },
  NETWORK: { name: 'NetworkError', message: 'the connection failed' },
  CANCELLED: { name: 'CancelledError', message: 'the peer cancelled' },
  LOCKED: { name: 'LockedError', message: 'another process holds the lock' },
  NOT_FOUND: { name: 'NotFoundError', message: 'no such snapshot' },
  BUSY: { name: 'BusyError', message: 'in use' },
  SOURCE_CHANGED: { name: 'SourceChangedError', message: 'the source changed under its point-in-time view' },
} as const satisfies Record<keyof typeof ErrorCodes, { name: string; message: string }>;

type ErrorKey = keyof typeof errorTable;

/** An error of one table row: a {@link SnapstreamError} whose `code` is the row's code. */
export interface CodedError<C extends ErrorCode> extends SnapstreamError {
  /** The row's code; see {@link ErrorCodes}. */
  readonly code: C;
}

/**
 * The class of one table row, such as {@link ChecksumError}: `new X(message?, details?)` makes a
 * {@link CodedError} (the row's message when `message` is left out).
 */
export interface SnapstreamErrorClass<C extends ErrorCode> {
  /** Makes the error: `message` (the table's message when left out) and the typed `details`. */
  new (message?: string, details?: ErrorDetails): CodedError<C>;
}

const classByCode = new Map<ErrorCode, SnapstreamErrorClass<ErrorCode>>();

/** Builds the class of one table row (named as the row says, so `err.name` and stacks show it). */
function E<K extends ErrorKey>(key: K): SnapstreamErrorClass<(typeof ErrorCodes)[K]> {
  const code = ErrorCodes[key];
  const row = errorTable[key];
  const cls = class extends SnapstreamError {
    constructor(message: string = row.message, details: ErrorDetails = {}) {
      super(code, message, details);
    }
  };
  Object.defineProperty(cls, 'name', { value: row.name });
  classByCode.set(code, cls);
  return cls as unknown as SnapstreamErrorClass<(typeof ErrorCodes)[K]>;
}

/** A checksum did not match. */
export const ChecksumError = E('CHECKSUM');
/** A checksum did not match. */
export type ChecksumError = InstanceType<typeof ChecksumError>;

/** Input ended early. */
export const TruncatedError = E('TRUNCATED');
/** Input ended early. */
export type TruncatedError = InstanceType<typeof TruncatedError>;

/** Input is malformed. */
export const FormatError = E('FORMAT');
/** Input is malformed. */
export type FormatError = InstanceType<typeof FormatError>;

/** A declared size exceeds a limit. */
export const LimitError = E('LIMIT');
/** A declared size exceeds a limit. */
export type LimitError = InstanceType<typeof LimitError>;

/**
 * A native codec failed. When `environment` is true the codec could not run at all (its worker
 * thread did not start under this process's options or permissions, or died): the bytes are not
 * in question, and {@link isCorruptionError} is false.
 */
export class CodecError extends E('CODEC') {
  /** True when the codec could not run (an environment failure), not when it refused the bytes. */
  readonly environment: boolean;

  constructor(message?: string, details: ErrorDetails & { environment?: boolean } = {}) {
    super(message, details);
    this.environment = details.environment === true;
  }
}
classByCode.set(ErrorCodes.CODEC, CodecError);

/** Not supported by this build. */
export const UnsupportedError = E('UNSUPPORTED');
/** Not supported by this build. */
export type UnsupportedError = InstanceType<typeof UnsupportedError>;

/** A bad option or argument. */
export const InvalidArgumentError = E('INVALID_ARGUMENT');
/** A bad option or argument. */
export type InvalidArgumentError = InstanceType<typeof InvalidArgumentError>;

/** A bad entry given to the encoder. */
export const InvalidEntryError = E('INVALID_ENTRY');
/** A bad entry given to the encoder. */
export type InvalidEntryError = InstanceType<typeof InvalidEntryError>;

/** The disk is full. */
export const NoSpaceError = E('NO_SPACE');
/** The disk is full. */
export type NoSpaceError = InstanceType<typeof NoSpaceError>;

/** A file-system failure. */
export const IoError = E('IO');
/** A file-system failure. */
export type IoError = InstanceType<typeof IoError>;

/** Authentication failed. */
export const AuthError = E('AUTH');
/** Authentication failed. */
export type AuthError = InstanceType<typeof AuthError>;

/** The peer refused. */
export const RefusedError = E('REFUSED');
/** The peer refused. */
export type RefusedError = InstanceType<typeof RefusedError>;

/** The peer broke the protocol. */
export const ProtocolError = E('PROTOCOL');
/** The peer broke the protocol. */
export type ProtocolError = InstanceType<typeof ProtocolError>;

/** Timed out. */
export const TimeoutError = E('TIMEOUT');
/** Timed out. */
export type TimeoutError = InstanceType<typeof TimeoutError>;

/** The connection failed. */
export const NetworkError = E('NETWORK');
/** The connection failed. */
export type NetworkError = InstanceType<typeof NetworkError>;

/** Another process holds the lock. */
export const LockedError = E('LOCKED');
/** Another process holds the lock. */
export type LockedError = InstanceType<typeof LockedError>;

/** No such snapshot. */
export const NotFoundError = E('NOT_FOUND');
/** No such snapshot. */
export type NotFoundError = InstanceType<typeof NotFoundError>;

/** In use. */
export const BusyError = E('BUSY');
/** In use. */
export type BusyError = InstanceType<typeof BusyError>;

/** The source changed under its point-in-time view; take the snapshot again. */
export const SourceChangedError = E('SOURCE_CHANGED');
/** The source changed under its point-in-time view; take the snapshot again. */
export type SourceChangedError = InstanceType<typeof SourceChangedError>;

/** The peer cancelled. */
export const CancelledError = E('CANCELLED');
/** The peer cancelled. */
export type CancelledError = InstanceType<typeof CancelledError>;

/**
 * The table's class for `code`, built with `message`: how an error code that crossed the wire
 * becomes a typed error again.
 * @internal
 */
export function errorForCode(code: ErrorCode, message: string, details: ErrorDetails = {}): SnapstreamError {
  const cls = classByCode.get(code);
  return cls ? new cls(message, details) : new SnapstreamError(code, message, details);
}

/**
 * Wraps a system error from file I/O: a full disk becomes {@link NoSpaceError}, anything else
 * {@link IoError}; snapstream's own errors pass through.
 * @internal
 */
export function wrapIoError(err: unknown, what: string): Error {
  if (err instanceof SnapstreamError) return err;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ABORT_ERR' || code === 'ERR_STREAM_PREMATURE_CLOSE') return err as Error;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new NoSpaceError(`${what}: no space left on device`, { cause: err });
  return new IoError(`${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/**
 * True for errors that mean "the data is damaged" (a checksum, truncation, format or limit error
 * found in its own bytes) rather than "the call was wrong" or "the environment failed". A codec
 * that fails (`SNAP_ERR_CODEC`: a worker thread that cannot start — a {@link CodecError} with
 * `environment` set — or a native library error) is not corruption: in a snapshot every data
 * frame's CRC is checked before it is decompressed, so damage shows as a checksum error, and a
 * failing codec must never get a healthy snapshot moved aside.
 */
export function isCorruptionError(err: unknown): err is SnapstreamError {
  return (
    err instanceof SnapstreamError &&
    (err.code === ErrorCodes.CHECKSUM || err.code === ErrorCodes.TRUNCATED || err.code === ErrorCodes.FORMAT || err.code === ErrorCodes.LIMIT)
  );
}
