/**
 * One side of the transfer and delta benchmarks (transfer.ts, delta.ts), in a process of its own.
 *   serve DIR [--no-delta]         listens on 127.0.0.1, prints the port; on SIGTERM prints { maxRssMB };
 *                                  SYNC_EVERY=N sets the server's syncEvery
 *   send FILE PORT [--no-delta] [--rate BYTES/S]
 *                                  sends FILE as id "bench", prints the SendResult with { seconds, maxRssMB }
 */
import fs from 'node:fs';
import net from 'node:net';
import { createSnapshotServer, sendSnapshot } from 'snapstream';
import { peakRssMB } from './peak-rss.js';

const [, , mode, a, b, ...rest] = process.argv;
// DELTA_MEMORY=1: the highest RSS, heap and external memory seen (sampled every 50 ms), on stderr at the end.
if (process.env.DELTA_MEMORY) {
  const peak = { rss: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    for (const k of Object.keys(peak) as (keyof typeof peak)[]) peak[k] = Math.max(peak[k], m[k]);
  }, 50);
  timer.unref();
  process.on('exit', () => {
    const mb = (n: number): string => `${(n / 1e6).toFixed(0)} MB`;
    process.stderr.write(`${mode} peak: rss ${mb(peak.rss)}, heap ${mb(peak.heapUsed)}, external ${mb(peak.external)}, array buffers ${mb(peak.arrayBuffers)}\n`);
  });
}
// DELTA_THREADS=1: each thread's CPU seconds (user + system, by name), on stderr at the end.
if (process.env.DELTA_THREADS) {
  process.on('exit', () => {
    const rows = new Map<string, [number, number]>();
    for (const tid of fs.readdirSync('/proc/self/task')) {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = `${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))}${tid === String(process.pid) ? ' (main)' : ` ${tid}`}`;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const r = rows.get(name) ?? [0, 0];
      rows.set(name, [r[0] + Number(f[11]) / 100, r[1] + Number(f[12]) / 100]);
    }
    const busy = [...rows].filter(([, [u, k]]) => u + k > 0).sort((a, b) => b[1][0] + b[1][1] - a[1][0] - a[1][1]);
    process.stderr.write(`${mode} threads: ${busy.map(([n, [u, k]]) => `${n} ${u.toFixed(2)}u+${k.toFixed(2)}s`).join(', ')}\n`);
  });
}
const delta = !process.argv.includes('--no-delta');
if (mode === 'serve') {
  const server = createSnapshotServer({ dir: a!, secret: 'bench-secret', delta, ...(process.env.SYNC_EVERY ? { syncEvery: Number(process.env.SYNC_EVERY) } : {}) });
  const address = (await server.listen({ port: 0 })) as net.AddressInfo;
  process.stdout.write(`${address.port}\n`);
  // DELTA_TRACE=1: when each phase of the transfer ended, on this side (ms since the connection).
  if (process.env.DELTA_TRACE) {
    let t0 = 0;
    const mark = (what: string): void => void process.stderr.write(`server ${what} ${(performance.now() - t0).toFixed(0)} ms\n`);
    let firstProgress = true;
    server.on('transfer-start', () => {
      t0 = t0 || performance.now();
      mark('accepted');
    });
    server.on('bases-indexed', () => mark('bases indexed'));
    server.on('progress', () => {
      if (firstProgress) mark('first ack');
      firstProgress = false;
    });
    let elu = performance.eventLoopUtilization();
    server.on('transfer-start', () => (elu = performance.eventLoopUtilization()));
    server.on('installed', () => {
      mark('installed');
      process.stderr.write(`server event loop utilisation ${(performance.eventLoopUtilization(elu).utilization * 100).toFixed(0)}%\n`);
    });
  }
  process.on('SIGTERM', () => {
    const cpu = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ maxRssMB: peakRssMB(), cpuSeconds: (cpu.user + cpu.system) / 1e6, userSeconds: cpu.user / 1e6 })}\n`);
    process.exit(0);
  });
} else if (mode === 'send') {
  const rate = rest.indexOf('--rate');
  const rateLimit = rate >= 0 ? Number(rest[rate + 1]) : 0;
  const start = performance.now();
  const elu = performance.eventLoopUtilization();
  const result = await sendSnapshot(a!, () => net.connect(Number(b), '127.0.0.1'), {
    id: 'bench',
    secret: 'bench-secret',
    delta,
    ...(rateLimit > 0 ? { rateLimit } : {}),
    ...(process.env.DELTA_TRACE ? { onProgress: traceProgress(start) } : {}),
  });
  if (process.env.DELTA_TRACE) process.stderr.write(`sender event loop utilisation ${(performance.eventLoopUtilization(elu).utilization * 100).toFixed(0)}%\n`);
  const cpu = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ ...result, seconds: (performance.now() - start) / 1000, maxRssMB: peakRssMB(), cpuSeconds: (cpu.user + cpu.system) / 1e6, userSeconds: cpu.user / 1e6 })}\n`);
} else {
  process.stderr.write('usage: transfer-peer serve DIR [--no-delta] | send FILE PORT [--no-delta] [--rate BYTES/S]\n');
  process.exit(2);
}

/** DELTA_TRACE=1: the sender's first acknowledgement and every 25% of the file, in ms since the start. */
function traceProgress(start: number): (p: { bytes: number; total: number }) => void {
  let next = 0;
  return (p) => {
    if (p.bytes < next) return;
    process.stderr.write(`sender acked ${((100 * p.bytes) / p.total).toFixed(0)}% at ${(performance.now() - start).toFixed(0)} ms\n`);
    next = p.bytes + p.total / 4;
  };
}
