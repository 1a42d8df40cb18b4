/** A snapshot applier that writes entries as JSON Lines (the `encode` input format) into a file. */
import type fs from 'node:fs';
import fsp from 'node:fs/promises';
import type { SnapshotApplier } from '../store/source-applier.js';
import { wrapIoError } from '../errors.js';
import type { DecodedEntry } from '../format/entry.js';
import { durableRename, fsyncFile } from '../sink/durable-file.js';
import { createFresh } from '../sink/safe-open.js';

/** Restores entries as JSON Lines into a file, installed only if the whole snapshot restores. */
export function jsonlFileApplier(file: string): SnapshotApplier {
  const partial = `${file}.partial`;
  let out: fs.WriteStream | null = null;
  // A write error is kept here (a stream error with no listener would crash the process) and
  // thrown, typed, by the next write or the commit.
  let failed: Error | null = null;
  const check = (): void => {
    if (failed) throw failed;
  };
  const write = (text: string): Promise<void> =>
    new Promise((resolve, reject) => {
      check();
      if (out!.write(text)) return resolve();
      const onError = (): void => reject(failed);
      out!.once('error', onError).once('drain', () => {
        out!.off('error', onError);
        resolve();
      });
    });
  const field = (v: Buffer | string): unknown => (typeof v === 'string' ? v : { base64: v.toString('base64') });
  return {
    async begin() {
      failed = null;
      // Opened here, awaited: a missing directory or a full disk is a typed error of the
      // restore, and a link planted at the partial's path is replaced, never written through.
      let handle: fsp.FileHandle;
      try {
        handle = await createFresh(partial);
      } catch (err) {
        throw wrapIoError(err, `creating ${partial}`);
      }
      out = handle.createWriteStream();
      out.on('error', (err) => {
        failed ??= wrapIoError(err, `writing ${partial}`);
      });
    },
    async write(entries: DecodedEntry[]) {
      let text = '';
      for (const e of entries) {
        text += `${JSON.stringify(e.expiresAt === undefined ? { key: field(e.key), value: field(e.value) } : { key: field(e.key), value: field(e.value), expiresAt: e.expiresAt })}\n`;
      }
      await write(text);
    },
    async commit() {
      await new Promise<void>((resolve, reject) => out!.end((err?: Error | null) => (err ? reject(wrapIoError(err, `writing ${partial}`)) : resolve())));
      check();
      try {
        await fsyncFile(partial);
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
