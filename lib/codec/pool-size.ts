/**
 * The number of worker threads of the shared pool: one per core, at most eight. Its own module so
 * that a stage can size itself by it without loading the pool (worker-pool.ts) it may never use.
 */
import os from 'node:os';

/** Worker threads of the shared pool: one per core (at least one, at most eight). */
export function defaultPoolSize(): number {
  return Math.max(1, Math.min(os.availableParallelism?.() ?? os.cpus().length, 8));
}
