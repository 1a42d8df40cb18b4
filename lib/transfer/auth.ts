/**
 * Shared-secret challenge–response (HMAC-SHA256). Each side sends a fresh random nonce; the
 * client proves it knows the secret by a MAC over both nonces and the snapshot id, the server
 * proves it back with a MAC under a different label. The secret never crosses the wire, and a
 * recorded exchange cannot be replayed (the other side's nonce is new every time).
 */
import crypto from 'node:crypto';

/** A shared secret for HMAC authentication: a string (UTF-8) or bytes. */
export type Secret = string | Buffer;

export function newNonce(): string {
  return crypto.randomBytes(16).toString('hex');
}

/** The MAC one side sends. */
export function authProof(secret: Secret, role: 'client' | 'server', id: string, clientNonce: string, serverNonce: string): string {
  return crypto.createHmac('sha256', secret).update(`snapstream/1 ${role}\n${id}\n${clientNonce}\n${serverNonce}`).digest('hex');
}

/** A MAC as sent: lowercase or uppercase hex, an even number of digits. */
const HEX = /^(?:[0-9a-fA-F]{2})+$/;

/**
 * Compares a received MAC with the expected one in constant time. Anything that is not strict
 * hex of the same byte length is simply no match: the comparison itself can then never throw
 * (a 64-character string of non-ASCII letters is 64 characters but more than 64 bytes).
 */
export function proofMatches(expected: string, received: unknown): boolean {
  if (typeof received !== 'string' || !HEX.test(received)) return false;
  const want = Buffer.from(expected, 'hex');
  const got = Buffer.from(received, 'hex');
  if (got.length !== want.length) return false;
  return crypto.timingSafeEqual(want, got);
}
