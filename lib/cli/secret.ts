/**
 * Shared secrets for `send`, `serve`: from `--secret-file FILE` or the SNAPSTREAM_SECRET
 * environment variable — never from the command line, where `ps` would show it to every user.
 */
import fs from 'node:fs/promises';
import type { ParsedArgs } from './args.js';
import { UsageError } from './exit-codes.js';

export async function readSecret(args: ParsedArgs): Promise<Buffer | undefined> {
  if (args.values.has('--secret')) throw new UsageError('secrets are not taken on the command line: use --secret-file FILE or SNAPSTREAM_SECRET');
  const file = args.values.get('--secret-file');
  if (file !== undefined) {
    const text = (await fs.readFile(file)).toString('utf8').trim();
    if (text === '') throw new UsageError(`the secret file ${file} is empty`);
    return Buffer.from(text, 'utf8');
  }
  const env = process.env.SNAPSTREAM_SECRET;
  return env ? Buffer.from(env, 'utf8') : undefined;
}
