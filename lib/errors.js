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
};
/** Base class of every snapstream error. */
export class SnapstreamError extends Error {
    /** The stable code to match on; see {@link ErrorCodes}. */
    code;
    /** Byte offset in the stream or file where the problem was found, when known. */
    offset;
    /** Block or chunk sequence number concerned, when known. */
    seq;
    /** What was expected (a checksum, a length, a magic number), when known. */
    expected;
    /** What was found instead, when known. */
    actual;
    constructor(code, message, details = {}) {
        super(message, details.cause === undefined ? undefined : { cause: details.cause });
        this.code = code;
        if (details.offset !== undefined)
            this.offset = details.offset;
        if (details.seq !== undefined)
            this.seq = details.seq;
        if (details.expected !== undefined)
            this.expected = details.expected;
        if (details.actual !== undefined)
            this.actual = details.actual;
    }
    /** The subclass's name, such as `'ChecksumError'`. */
    get name() {
        return this.constructor.name;
    }
}
/** A checksum did not match. */
export class ChecksumError extends SnapstreamError {
    constructor(message, details = {}) {
        super(ErrorCodes.CHECKSUM, message, details);
    }
}
/** Input ended early. */
export class TruncatedError extends SnapstreamError {
    constructor(message, details = {}) {
        super(ErrorCodes.TRUNCATED, message, details);
    }
}
/** Input is malformed. */
export class FormatError extends SnapstreamError {
    constructor(message, details = {}) {
        super(ErrorCodes.FORMAT, message, details);
    }
}
/** A declared size exceeds a limit. */
export class LimitError extends SnapstreamError {
    constructor(message, details = {}) {
        super(ErrorCodes.LIMIT, message, details);
    }
}
/**
 * A native codec failed. When `environment` is true the codec could not run at all (its worker
 * thread did not start under this process's options or permissions, or died): the bytes are not
 * in question, and {@link isCorruptionError} is false.
 */
export class CodecError extends SnapstreamError {
    /** True when the codec could not run (an environment failure), not when it refused the bytes. */
    environment;
    constructor(message, details = {}) {
        super(ErrorCodes.CODEC, message, details);
        this.environment = details.environment === true;
    }
}
/** Not supported by this build. */
export class UnsupportedError extends SnapstreamError {
    constructor(message, details = {}) {
        super(ErrorCodes.UNSUPPORTED, message, details);
    }
}
/** A bad option or argument. */
export class InvalidArgumentError extends SnapstreamError {
    constructor(message, details = {}) {
        super(ErrorCodes.INVALID_ARGUMENT, message, details);
    }
}
/** A bad entry given to the encoder. */
export class InvalidEntryError extends SnapstreamError {
    constructor(message, details = {}) {
        super(ErrorCodes.INVALID_ENTRY, message, details);
    }
}
/** The disk is full. */
export class NoSpaceError extends SnapstreamError {
    constructor(message, details = {}) {
        super(ErrorCodes.NO_SPACE, message, details);
    }
}
/** A file-system failure. */
export class IoError extends SnapstreamError {
    constructor(message, details = {}) {
        super(ErrorCodes.IO, message, details);
    }
}
/** Authentication failed. */
export class AuthError extends SnapstreamError {
    constructor(message, details = {}) {
        super(ErrorCodes.AUTH, message, details);
    }
}
/** The peer refused. */
export class RefusedError extends SnapstreamError {
    constructor(message, details = {}) {
        super(ErrorCodes.REFUSED, message, details);
    }
}
/** The peer broke the protocol. */
export class ProtocolError extends SnapstreamError {
    constructor(message, details = {}) {
        super(ErrorCodes.PROTOCOL, message, details);
    }
}
/** Timed out. */
export class TimeoutError extends SnapstreamError {
    constructor(message, details = {}) {
        super(ErrorCodes.TIMEOUT, message, details);
    }
}
/** The connection failed. */
export class NetworkError extends SnapstreamError {
    constructor(message, details = {}) {
        super(ErrorCodes.NETWORK, message, details);
    }
}
/** Another process holds the lock. */
export class LockedError extends SnapstreamError {
    constructor(message, details = {}) {
        super(ErrorCodes.LOCKED, message, details);
    }
}
/** No such snapshot. */
export class NotFoundError extends SnapstreamError {
    constructor(message, details = {}) {
        super(ErrorCodes.NOT_FOUND, message, details);
    }
}
/** In use. */
export class BusyError extends SnapstreamError {
    constructor(message, details = {}) {
        super(ErrorCodes.BUSY, message, details);
    }
}
/** The source changed under its point-in-time view; take the snapshot again. */
export class SourceChangedError extends SnapstreamError {
    constructor(message, details = {}) {
        super(ErrorCodes.SOURCE_CHANGED, message, details);
    }
}
/** The peer cancelled. */
export class CancelledError extends SnapstreamError {
    constructor(message, details = {}) {
        super(ErrorCodes.CANCELLED, message, details);
    }
}
/**
 * Wraps a system error from file I/O: a full disk becomes {@link NoSpaceError}, anything else
 * {@link IoError}; snapstream's own errors pass through.
 */
export function wrapIoError(err, what) {
    if (err instanceof SnapstreamError)
        return err;
    const code = err?.code;
    if (code === 'ABORT_ERR' || code === 'ERR_STREAM_PREMATURE_CLOSE')
        return err;
    if (code === 'ENOSPC' || code === 'EDQUOT')
        return new NoSpaceError(`${what}: no space left on device`, { cause: err });
    return new IoError(`${what}: ${err?.message ?? String(err)}`, { cause: err });
}
/**
 * True for errors that mean "the data is damaged" (a checksum, truncation, format or limit error
 * found in its own bytes) rather than "the call was wrong" or "the environment failed". A codec
 * that fails (`SNAP_ERR_CODEC`: a worker thread that cannot start — a {@link CodecError} with
 * `environment` set — or a native library error) is not corruption: in a snapshot every data
 * frame's CRC is checked before it is decompressed, so damage shows as a checksum error, and a
 * failing codec must never get a healthy snapshot moved aside.
 */
export function isCorruptionError(err) {
    return (err instanceof SnapstreamError &&
        (err.code === ErrorCodes.CHECKSUM || err.code === ErrorCodes.TRUNCATED || err.code === ErrorCodes.FORMAT || err.code === ErrorCodes.LIMIT));
}
//# sourceMappingURL=errors.js.map