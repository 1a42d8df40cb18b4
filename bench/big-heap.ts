/**
 * The "big heap" the issue-14 cases run in: the process holds a cache of `count` entries (3 M by
 * default, ≈ 0.7 GB of heap) before the case starts, as the process a user takes a snapshot in
 * does. Each key and value is a string of its own (not shared), so a full collection has that many
 * objects to mark. The case's child is started with `--max-old-space-size=4096` on its command line.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

export const BIG_HEAP_ENTRIES = 3_000_000;

/** Kept alive for the whole life of the process. */
const held: Map<string, string>[] = [];

/**
 * Fills the heap with `count` entries of `key:N` → a 150-character string (flat, as a string read
 * from a file or a socket is: ≈ 230 bytes an entry in all); returns the heap used, in MB.
 */
export function holdEntries(count = BIG_HEAP_ENTRIES): number {
  const map = new Map<string, string>();
  const text = Buffer.alloc(150, 'x');
  for (let i = 0; i < count; i++) {
    const at = text.write(`value:${i}:`, 'latin1');
    map.set(`key:${i}`, text.toString('latin1'));
    text.fill('x', 0, at);
  }
  held.push(map);
  // A process that has held its cache for a while has had full collections at this size, which
  // set its heap's limits: the case does not start in the slack of a heap that just grew.
  fullCollection();
  return process.memoryUsage().heapUsed / 1e6;
}

/**
 * Waits while the collector's background threads sweep the heap that {@link holdEntries} just
 * filled and collected: without it, their CPU time (0.13–0.18 s under Node 20 and 24 here) was counted as the case's.
 * A process that has held its cache for a while has long done so.
 */
export function settle(ms = 2000): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A full collection now (`--expose-gc` on the command line would reach the worker threads, which refuse it). */
function fullCollection(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}
