/**
 * `npm run bench:timeline [-- --case bytes-zstd-fs,entries-buffer --size 256m --runs 2 --every 4
 * --base DIR --dir DIR --buckets 20]`
 *
 * Where the two cores sit idle during a write-side case. Each run starts the case in a child
 * process (`timeline.js --child CASE RAW OUT SIZE`, marking where the case starts and ends) and,
 * from this process, reads every `--every` ms each of the child's threads'
 * `/proc/PID/task/TID/schedstat`: nanoseconds on a CPU and waiting for one (runnable). The rest
 * of the case's wall time the thread slept: for a zstd worker thread, time without a job; for
 * the main thread, time it had nothing to do. Printed per run: each thread's run / runnable /
 * sleep time during the case, the case's wall and CPU time, the time our threads left a core
 * idle (2 − their running threads, summed over the samples), and a timeline in `--buckets`
 * slices of the case (each worker's and the main thread's share of the slice on a CPU).
 *
 * The sampler shares the cores with the case (a few % of one at 4 ms); the figures it changes,
 * it changes alike for both builds (`--base DIR` alternates runs of another build, a checkout
 * with `dist/` and `bench/dist/` built). Needs Linux's schedstat (CONFIG_SCHED_INFO).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSize } from './bench-args.js';
import { ensureRawDataset } from './raw-dataset.js';
import type { Dataset } from './datasets.js';
import { readSchedstat } from './schedstat.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const START = '## timeline case start';
const END = '## timeline case end';

interface Sample {
  /** ms since the sampler started. */
  t: number;
  /** tid → [run ns, runnable-wait ns]. */
  threads: Map<string, [number, number]>;
}

/** The child: runs one case between two markers on stdout. */
async function child(name: string, raw: string, out: string, size: number): Promise<void> {
  const { cases } = (await import(path.join(here, 'cases.js'))) as typeof import('./cases.js');
  const heap = name.startsWith('heap:');
  const fn = cases[heap ? name.slice(5) : name];
  if (!fn) throw new Error(`unknown case ${name}`);
  if (heap) {
    const { holdEntries, settle } = (await import(path.join(here, 'big-heap.js'))) as typeof import('./big-heap.js');
    holdEntries();
    await settle();
  }
  process.stdout.write(`${START}\n`);
  await fn({ raw, out, size });
  process.stdout.write(`${END}\n`);
  // Alive a moment longer, so that the sampler reads the worker threads once more after the end.
  await new Promise((resolve) => setTimeout(resolve, 300));
}

function threadName(pid: number, tid: string): string {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

interface RunResult {
  wall: number;
  lines: string[];
  idleCoreSeconds: number;
  byKind: Record<string, { run: number; wait: number; sleep: number }>;
}

/** Runs the case once under the sampler. */
function runOnce(casesDir: string, name: string, raw: string, out: string, size: number, every: number, buckets: number): Promise<RunResult> {
  const flags = name.startsWith('heap:') ? ['--max-old-space-size=4096'] : [];
  // The child is this script of the build measured (`casesDir` holds its cases.js).
  const c = spawn(process.execPath, [...flags, path.join(casesDir, 'timeline.js'), '--child', name, raw, out, String(size)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = c.pid!;
  const names = new Map<string, string>();
  const samples: Sample[] = [];
  const t0 = performance.now();
  let startAt = -1;
  let endAt = -1;
  let text = '';
  const take = (): void => {
    const threads = readSchedstat(pid);
    // A thread that ended keeps the times it had last.
    const previous = samples[samples.length - 1];
    if (previous) for (const [tid, v] of previous.threads) if (!threads.has(tid)) threads.set(tid, v);
    // A name read as the thread was being made may be missing: read again at the next sample.
    for (const tid of threads.keys()) if ((names.get(tid) ?? '?') === '?') names.set(tid, tid === String(pid) ? 'main' : threadName(pid, tid));
    samples.push({ t: performance.now() - t0, threads });
  };
  c.stdout.on('data', (d: Buffer) => {
    text += d;
    if (startAt < 0 && text.includes(START)) {
      take();
      startAt = samples.length - 1;
    }
    if (endAt < 0 && text.includes(END)) {
      take();
      endAt = samples.length - 1;
    }
  });
  const timer = setInterval(() => {
    if (startAt >= 0 && endAt < 0) take();
  }, every);
  return new Promise((resolve, reject) => {
    c.on('exit', (code) => {
      clearInterval(timer);
      if (code !== 0 || startAt < 0 || endAt < 0) return reject(new Error(`${name} exited ${code}`));
      const window = samples.slice(startAt, endAt + 1);
      const first = window[0]!;
      const last = window[window.length - 1]!;
      const wall = (last.t - first.t) / 1000;
      // Which threads are the zstd workers: those named like Node's worker threads that ran most.
      const delta = (tid: string, s: Sample, from: Sample): [number, number] => {
        const a = s.threads.get(tid);
        if (!a) return [0, 0];
        const b = from.threads.get(tid) ?? [0, 0];
        return [(a[0] - b[0]) / 1e9, (a[1] - b[1]) / 1e9];
      };
      const tids = [...names.keys()];
      const totals = new Map(tids.map((tid) => [tid, delta(tid, last, first)]));
      // The zstd workers: the threads that ran most after the main one, named as Node names its
      // worker threads ('WorkerThread', or 'node' under Node 20, as libuv's are there).
      const workerTids = new Set(
        tids
          .filter((t) => t !== String(pid) && /^(node|WorkerThread)/.test(names.get(t)!))
          .sort((a, b) => totals.get(b)![0] - totals.get(a)![0])
          .slice(0, Math.min(8, os.availableParallelism?.() ?? os.cpus().length)),
      );
      const kind = (tid: string): string => {
        const n = names.get(tid)!;
        if (n === 'main') return 'main';
        if (workerTids.has(tid)) return `worker ${tid}`;
        if (/^V8|^DefaultWorke/i.test(n)) return 'V8 helpers';
        if (/libuv|^node$/i.test(n)) return 'libuv';
        return `other (${n})`;
      };
      if (process.env.TIMELINE_THREADS) for (const tid of tids) process.stderr.write(`${tid} ${names.get(tid)} ${totals.get(tid)![0].toFixed(3)}\n`);
      const byKind: RunResult['byKind'] = {};
      for (const tid of tids) {
        const [run, wait] = totals.get(tid)!;
        const k = kind(tid);
        const e = (byKind[k] ??= { run: 0, wait: 0, sleep: 0 });
        e.run += run;
        e.wait += wait;
        // A thread that exists for the whole case sleeps the rest of it.
        if (k === 'main' || k.startsWith('worker')) e.sleep += Math.max(0, wall - run - wait);
      }
      // Idle cores left by our threads: 2 − the CPU time they had in each sample interval.
      const cores = Math.min(2, os.cpus().length);
      let idle = 0;
      const workers = tids.filter((t) => kind(t).startsWith('worker'));
      const lines: string[] = [];
      const slice = (last.t - first.t) / buckets;
      const row: string[] = [];
      let b = 0;
      let bucketStart = first;
      for (let i = 1; i < window.length; i++) {
        const s = window[i]!;
        const p = window[i - 1]!;
        const dt = (s.t - p.t) / 1000;
        let ran = 0;
        for (const tid of tids) ran += delta(tid, s, p)[0];
        idle += Math.max(0, cores * dt - ran);
        if (s.t - first.t >= (b + 1) * slice || i === window.length - 1) {
          const span = (s.t - bucketStart.t) / 1000;
          const share = (tid: string): string => `${Math.round((100 * delta(tid, s, bucketStart)[0]) / span)}`.padStart(3);
          let all = 0;
          for (const tid of tids) all += delta(tid, s, bucketStart)[0];
          row.push(`${(bucketStart.t - first.t).toFixed(0).padStart(5)} ms: main ${share(String(pid))}%  ${workers.map((w) => `w${w} ${share(w)}%`).join('  ')}  all ${Math.round((100 * all) / span)}% of ${cores * 100}%`);
          bucketStart = s;
          b++;
        }
      }
      lines.push(...row);
      resolve({ wall, lines, idleCoreSeconds: idle, byKind });
    });
  });
}

async function main(argv: string[]): Promise<void> {
  let names = ['bytes-zstd-fs', 'entries-buffer'];
  let size = 256 * 1024 * 1024;
  let runs = 2;
  let every = 4;
  let buckets = 20;
  let base: string | null = null;
  let dir = path.join(os.tmpdir(), 'snapstream-bench');
  let data: Dataset = 'sample';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--case') names = argv[++i]!.split(',');
    else if (a === '--size') size = parseSize(argv[++i]!);
    else if (a === '--runs') runs = Number(argv[++i]);
    else if (a === '--every') every = Number(argv[++i]);
    else if (a === '--buckets') buckets = Number(argv[++i]);
    else if (a === '--base') base = path.resolve(argv[++i]!);
    else if (a === '--dir') dir = argv[++i]!;
    else if (a === '--data') data = argv[++i] as Dataset;
    else throw new Error(`unknown option ${a}`);
  }
  const raw = await ensureRawDataset(dir, data, size);
  const builds: [string, string][] = [['this build', here]];
  if (base) builds.unshift(['base', path.join(base, 'bench', 'dist')]);
  process.stdout.write(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; ${size / 1048576} MiB of ${data}; sampled every ${every} ms\n`);
  for (const name of names) {
    for (let r = 0; r < runs; r++) {
      for (const [label, casesDir] of r % 2 === 0 ? builds : [...builds].reverse()) {
        if (!fs.existsSync(path.join(casesDir, 'timeline.js'))) {
          process.stdout.write(`(${label} has no timeline.js: copy bench/dist/timeline.js there)\n`);
          continue;
        }
        const out = path.join(os.tmpdir(), `snapstream-timeline-${process.pid}.out`);
        const res = await runOnce(casesDir, name, raw, out, size, every, buckets);
        fs.rmSync(out, { force: true });
        const cpu = Object.values(res.byKind).reduce((s, k) => s + k.run, 0);
        process.stdout.write(`\n${name}, ${label}, run ${r + 1}: wall ${res.wall.toFixed(3)} s, CPU ${cpu.toFixed(3)} s, core time our threads left idle ${res.idleCoreSeconds.toFixed(3)} s\n`);
        for (const [k, v] of Object.entries(res.byKind).sort()) {
          process.stdout.write(`  ${k.padEnd(16)} run ${v.run.toFixed(3)}  runnable ${v.wait.toFixed(3)}${k === 'main' || k.startsWith('worker') ? `  sleeping ${v.sleep.toFixed(3)}` : ''}\n`);
        }
        for (const l of res.lines) process.stdout.write(`  ${l}\n`);
      }
    }
  }
}

if (process.argv[2] === '--child') {
  const [, , , name, raw, out, size] = process.argv;
  child(name!, raw!, out!, Number(size)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
