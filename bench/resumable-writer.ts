/**
 * Child process of the kill-and-resume fault run: writes (or resumes) a deterministic snapshot
 * of `count` sample entries to OUT, then prints its summary as one JSON line.
 * usage: node resumable-writer.js OUT COUNT [BLOCK_SIZE] [SYNC_EVERY]
 * With STOP_AT_BYTES in the environment it stops (aborts) once that much is written, leaving a
 * partial file. The summary includes the process's peak RSS (`maxRssMB`).
 */
import { sampleEntries, writeSnapshot } from 'snapstream';
import { peakRssMB } from './peak-rss.js';

export const WRITER_NOW = 1_800_000_000_000;
export const WRITER_META = { index: 4242, term: 7 };

const [, , out, countText, blockText, syncText] = process.argv;
if (!out || !countText) {
  process.stderr.write('usage: resumable-writer OUT COUNT [BLOCK_SIZE] [SYNC_EVERY]\n');
  process.exit(2);
}
const count = Number(countText);
const stopAt = Number(process.env.STOP_AT_BYTES ?? Infinity);
const abort = new AbortController();
const started = performance.now();
const summary = await writeSnapshot((cursor) => sampleEntries({ count, start: (cursor as number | undefined) ?? 0, now: WRITER_NOW }), out, {
  createdAt: WRITER_NOW,
  meta: WRITER_META,
  signal: abort.signal,
  onProgress: (p) => {
    if (p.bytes >= stopAt) abort.abort();
  },
  ...(blockText ? { blockSize: Number(blockText) } : {}),
  ...(syncText ? { syncEvery: Number(syncText) } : {}),
}).catch((err: unknown) => {
  if ((err as Error).name !== 'AbortError') throw err;
  return { stopped: true };
});
const seconds = (performance.now() - started) / 1000;
process.stdout.write(`${JSON.stringify({ ...summary, seconds, maxRssMB: peakRssMB() })}\n`);
