/**
 * Child process of the kill-and-resume fault run: writes (or resumes) a deterministic snapshot
 * of `count` sample entries to OUT, then prints its summary as one JSON line.
 * usage: node resumable-writer.js OUT COUNT [BLOCK_SIZE] [SYNC_EVERY]
 */
import { sampleEntries, writeSnapshot } from 'snapstream';

export const WRITER_NOW = 1_800_000_000_000;
export const WRITER_META = { index: 4242, term: 7 };

const [, , out, countText, blockText, syncText] = process.argv;
if (!out || !countText) {
  process.stderr.write('usage: resumable-writer OUT COUNT [BLOCK_SIZE] [SYNC_EVERY]\n');
  process.exit(2);
}
const count = Number(countText);
const summary = await writeSnapshot((cursor) => sampleEntries({ count, start: (cursor as number | undefined) ?? 0, now: WRITER_NOW }), out, {
  createdAt: WRITER_NOW,
  meta: WRITER_META,
  ...(blockText ? { blockSize: Number(blockText) } : {}),
  ...(syncText ? { syncEvery: Number(syncText) } : {}),
});
process.stdout.write(`${JSON.stringify(summary)}\n`);
