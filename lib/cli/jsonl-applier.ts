/** A snapshot applier that writes entries as JSON Lines (the `encode` input format) into a file. */
import type fs from 'node:fs';
import fsp from 'node:fs/promises';
import type { SnapshotApplier } from '../adapters/types.js';
import { wrapIoError } from '../errors.js';
import type { DecodedEntry } from '../format/entry.js';
import { durableRename } from '../sink/durable-file.js';

/** Restores entries as JSON Lines into a file, installed only if the whole snapshot restores. */
export function jsonlFileApplier(file: string): SnapshotApplier {
  let out: fs.WriteStream | null = null;
  // A write error is kept here and raised by the next write or the commit, never left unheard.
  let failure: Error | null = null;
  const partial = `${file}.partial`;
  const write = (text: string): Promise<void> =>
    new Promise((resolve, reject) => {
      if (failure) return reject(failure);
      if (out!.write(text)) return resolve();
      const onError = (): void => reject(failure);
      out!.once('error', onError);
      out!.once('drain', () => {
        out!.off('error', onError);
        resolve();
      });
    });
  const field = (v: Buffer | string): unknown => (typeof v === 'string' ? v : { base64: v.toString('base64') });
  return {
    async begin() {
      failure = null;
      let handle: fsp.FileHandle;
      try {
        handle = await fsp.open(partial, 'w');
      } catch (err) {
        throw wrapIoError(err, `creating ${partial}`);
      }
      out = handle.createWriteStream();
      out.on('error', (err) => (failure = wrapIoError(err, `writing ${partial}`)));
    },
    async write(entries: DecodedEntry[]) {
      let text = '';
      for (const e of entries) {
        text += `${JSON.stringify(e.expiresAt === undefined ? { key: field(e.key), value: field(e.value) } : { key: field(e.key), value: field(e.value), expiresAt: e.expiresAt })}\n`;
      }
      await write(text);
    },
    async commit() {
      await new Promise<void>((resolve, reject) => out!.end((err?: Error | null) => (err || failure ? reject(failure ?? wrapIoError(err, `writing ${partial}`)) : resolve())));
      try {
        await durableRename(partial, file);
      } catch (err) {
        throw wrapIoError(err, `installing ${file}`);
      }
    },
    async abort() {
      out?.destroy();
      await fsp.rm(partial, { force: true });
    },
  };
}
