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

/** Compares a received MAC with the expected one in constant time. */
export function proofMatches(expected: string, received: unknown): boolean {
  if (typeof received !== 'string' || received.length !== expected.length) return false;
  return crypto.timingSafeEqual(Buffer.from(expected, 'utf8'), Buffer.from(received, 'utf8'));
}
