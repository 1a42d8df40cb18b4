/**
 * Loaded with `node --import` into a child whose reading is measured (bomb.ts): records the
 * longest event-loop pause (perf_hooks.monitorEventLoopDelay) and, at exit, writes it with the
 * process's peak RSS (VmHWM) and longest garbage collection as JSON to the file named by BOMB_PROBE_OUT. `globalThis.probeReset()`
 * starts the pause record afresh (after a child's own imports).
 */
import fs from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';
import { peakRssMB } from './peak-rss.js';

const out = process.env.BOMB_PROBE_OUT;
if (isMainThread && out) {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const started = Date.now();
  // The longest garbage collection, to tell the collector's pauses from the reader's own work.
  let maxGcMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) maxGcMs = Math.max(maxGcMs, e.duration);
  });
  gc.observe({ entryTypes: ['gc'] });
  (globalThis as { probeReset?: () => void }).probeReset = () => {
    delay.reset();
    maxGcMs = 0;
  };
  process.on('exit', (code) => {
    delay.disable();
    const maxPauseMs = delay.count > 0 ? delay.max / 1e6 : 0;
    fs.writeFileSync(out, JSON.stringify({ code, peakMB: peakRssMB(), maxPauseMs, maxGcMs, seconds: (Date.now() - started) / 1000 }));
  });
}
