/**
 * Linux's per-thread scheduler counters (`/proc/PID/task/TID/schedstat`, CONFIG_SCHED_INFO):
 * nanoseconds each thread ran on a CPU and waited for one (runnable), by thread id.
 */
import fs from 'node:fs';

/** `[run, wait]` nanoseconds of every thread of process `pid` (this process by default). */
export function readSchedstat(pid: number | 'self' = 'self'): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const [run, wait] = fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ');
      out.set(tid, [Number(run), Number(wait)]);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}
