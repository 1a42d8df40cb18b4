/**
 * `node bench/dist/crc-probe.js`: CRC32 (`zlib.crc32`, what snapstream uses) and a plain copy,
 * in GB per CPU-second, over 1 MiB buffers making working sets of 1 to 256 MiB: fast while the
 * buffers stay in the cache, slower once they do not. CPU time, so a busy machine changes it
 * less than wall time. docs/BENCHMARKS.md, "Data that does not compress", quotes it.
 */
import zlib from 'node:zlib';

const MiB = 1024 * 1024;
const TOTAL = 256 * MiB;

function rate(run: () => void): number {
  let best = 0;
  for (let r = 0; r < 5; r++) {
    const c0 = process.cpuUsage();
    run();
    const c = process.cpuUsage(c0);
    best = Math.max(best, TOTAL / ((c.user + c.system) / 1e6) / 1e9);
  }
  return best;
}

const target = Buffer.allocUnsafeSlow(MiB);
console.log('| working set | CRC32, GB per CPU-second | copy, GB per CPU-second |\n|---|---|---|');
for (const n of [1, 4, 16, 64, 256]) {
  const bufs = Array.from({ length: n }, (_, k) => {
    const b = Buffer.allocUnsafeSlow(MiB);
    for (let i = 0; i < MiB; i++) b[i] = ((i * 2654435761 + k) >>> 24) & 0xff;
    return b;
  });
  let x = 0;
  const crc = rate(() => {
    for (let rep = 0; rep < TOTAL / MiB / n; rep++) for (const b of bufs) x = zlib.crc32(b, x);
  });
  const copy = rate(() => {
    for (let rep = 0; rep < TOTAL / MiB / n; rep++) for (const b of bufs) b.copy(target);
  });
  console.log(`| ${n} MiB | ${crc.toFixed(2)} | ${copy.toFixed(2)} |`);
}
