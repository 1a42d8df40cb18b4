/** A snapshot applier that writes entries as JSON Lines (the `encode` input format) into a file. */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type { SnapshotApplier } from '../store/source-applier.js';
import type { DecodedEntry } from '../format/entry.js';
import { durableRename } from '../sink/durable-file.js';

/** Restores entries as JSON Lines into a file, installed only if the whole snapshot restores. */
export function jsonlFileApplier(file: string): SnapshotApplier {
  let out: fs.WriteStream | null = null;
  const write = (text: string): Promise<void> =>
    new Promise((resolve, reject) => (out!.write(text) ? resolve() : out!.once('drain', resolve).once('error', reject)));
  const field = (v: Buffer | string): unknown => (typeof v === 'string' ? v : { base64: v.toString('base64') });
  return {
    async begin() {
      out = fs.createWriteStream(`${file}.partial`);
    },
    async write(entries: DecodedEntry[]) {
      let text = '';
      for (const e of entries) {
        text += `${JSON.stringify(e.expiresAt === undefined ? { key: field(e.key), value: field(e.value) } : { key: field(e.key), value: field(e.value), expiresAt: e.expiresAt })}\n`;
      }
      await write(text);
    },
    async commit() {
      await new Promise<void>((resolve, reject) => out!.end((err?: Error | null) => (err ? reject(err) : resolve())));
      await durableRename(`${file}.partial`, file);
    },
    async abort() {
      out?.destroy();
      await fsp.rm(`${file}.partial`, { force: true });
    },
  };
}
