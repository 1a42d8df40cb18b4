/** The unit a snapshot holds: a key, a value and an optional absolute expiry. */

/** Bytes or text. Strings are stored as UTF-8 and come back as strings. */
export type Bytes = Buffer | Uint8Array | string;

/** An entry given to the encoder. */
export interface Entry {
  /** The key. */
  key: Bytes;
  /** The value. */
  value: Bytes;
  /** Absolute expiry in milliseconds since the Unix epoch; absent or null for none. */
  expiresAt?: number | null | undefined;
}

/** An entry as the decoder gives it back: Buffers stay Buffers, strings stay strings. */
export interface DecodedEntry {
  /** The key: a string if it was written as one, else a Buffer. */
  key: Buffer | string;
  /** The value: a string if it was written as one, else a Buffer. */
  value: Buffer | string;
  /** Absolute expiry in milliseconds since the Unix epoch; absent for none. */
  expiresAt?: number;
}
