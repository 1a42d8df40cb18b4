/**
 * `npm run bench:read-timeline -- --case bytes|batch|loop --file FILE [--runs 5 --base DIST --json OUT]`
 *
 * Where the two cores sit idle while reading. Runs one read case in a fresh process per run:
 * `bytes`, read + verify bytes as the main bench's `read-bytes` case composes it
 * (`fs.createReadStream` of 1 MiB → `createCrcVerifier` → `createDecompressor` → a null sink);
 * `batch`, `readSnapshot(f, { batch: true })`; `loop`, the README's `for await` loop. With
 * `--base DIST` the same case runs with another build's `dist/` too (its `index.js` is
 * imported), alternating with this one, and with `zstd -d` of the file beside them.
 *
 * For each run it takes every thread's CPU time (Linux schedstat, nanoseconds) and, through
 * bench/read-timeline-probe.ts (loaded with `--import`, so into the worker threads too), the
 * time line of every worker job: sent by the main thread, begun and finished by the worker,
 * answer received by the main thread. It prints medians over the runs of: wall time; CPU time of
 * the main thread, of the zstd worker threads and of the rest (V8's helper threads, libuv's
 * pool); the idle core time (cores × wall − CPU); and per worker, its busy time, the time it
 * waited with no job sent to it ("starved": the main thread had not sent the next one yet), the
 * time a job it had been sent took to reach it ("latency"), and the time from its answer to the
 * main thread's receiving it. CPU time is what the machine's load moves least.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Snapstream from 'snapstream';
import type { MainJob, WorkerReport } from './read-timeline-probe.js';
import { peakRssMB } from './peak-rss.js';
import { readSchedstat } from './schedstat.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const now = (): number => performance.timeOrigin + performance.now();

/** CPU nanoseconds of every thread of this process, by OS thread id. */
function threadCpu(): Map<number, number> {
  return new Map([...readSchedstat()].map(([tid, [run]]) => [Number(tid), run]));
}

interface ChildResult {
  start: number;
  end: number;
  maxRssMB: number;
  cpu: { tid: number; ns: number }[];
  mainTid: number;
  main: MainJob[];
  workers: WorkerReport[];
}

async function child(mode: string, file: string, dist: string | undefined): Promise<void> {
  const s = (dist ? await import(pathToFileURL(path.join(dist, 'index.js')).href) : await import('snapstream')) as typeof Snapstream;
  const cpu0 = threadCpu();
  const start = now();
  let n = 0;
  if (mode === 'bytes') {
    const sink = new Writable({ highWaterMark: 1 << 20, write: (c: Buffer, _e, cb) => ((n += c.length), cb()) });
    await pipeline(fs.createReadStream(file, { highWaterMark: 1 << 20 }), s.createCrcVerifier(), s.createDecompressor(), sink);
  } else if (mode === 'batch') {
    for await (const batch of s.readSnapshot(file, { batch: true })) n += (batch as unknown[]).length;
  } else if (mode === 'loop') {
    for await (const e of s.readSnapshot(file)) if (e.key) n++;
  } else throw new Error(`unknown case ${mode}`);
  const end = now();
  if (n === 0) throw new Error('nothing read');
  const cpu1 = threadCpu();
  const maxRssMB = peakRssMB();
  // Without the probe (a child run by hand, under --cpu-prof say): no job time line.
  const probe = (globalThis as unknown as { readTimeline?: () => Promise<{ main: MainJob[]; workers: WorkerReport[]; mainTid: number }> }).readTimeline;
  const timeline = probe ? await probe() : { main: [], workers: [], mainTid: process.pid };
  const cpu = [...cpu1].map(([tid, ns]) => ({ tid, ns: ns - (cpu0.get(tid) ?? 0) }));
  const out: ChildResult = { start, end, maxRssMB, cpu, ...timeline };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

interface RunFigures {
  wall: number;
  cpu: number;
  main: number;
  workers: number;
  rest: number;
  idle: number;
  rss: number;
  jobs: number;
  /** Per worker, summed over the workers: ms. */
  busy: number;
  starved: number;
  latency: number;
  answer: number;
  /** Ms from the start to the first job's start on any worker. */
  firstJob: number;
}

function figures(r: ChildResult): RunFigures {
  const ms = (ns: number): number => ns / 1e6;
  const wall = r.end - r.start;
  const workerTids = new Set(r.workers.map((w) => w.tid));
  let cpu = 0;
  let main = 0;
  let workers = 0;
  for (const t of r.cpu) {
    cpu += t.ns;
    if (t.tid === r.mainTid) main += t.ns;
    else if (workerTids.has(t.tid)) workers += t.ns;
  }
  const sent = new Map(r.main.map((j) => [`${j.threadId}:${j.id}`, j]));
  let busy = 0;
  let starved = 0;
  let latency = 0;
  let answer = 0;
  let jobs = 0;
  let firstJob = Infinity;
  for (const w of r.workers) {
    const js = [...w.jobs].sort((a, b) => a.start - b.start);
    let free = NaN; // when the worker last had nothing to do (before its first job: it was starting)
    for (const j of js) {
      const m = sent.get(`${w.threadId}:${j.id}`);
      jobs++;
      busy += j.end - j.start;
      firstJob = Math.min(firstJob, j.start - r.start);
      if (m && Number.isNaN(free)) {
        if (Number.isFinite(m.answered)) answer += Math.max(0, m.answered - j.end);
      } else if (m) {
        // Waiting for the main thread to send the job, then for the job to reach the worker.
        starved += Math.max(0, m.sent - free);
        latency += Math.max(0, j.start - Math.max(m.sent, free));
        if (Number.isFinite(m.answered)) answer += Math.max(0, m.answered - j.end);
      }
      free = j.end;
    }
    if (!Number.isNaN(free)) starved += Math.max(0, r.end - free);
  }
  return {
    wall,
    cpu: ms(cpu),
    main: ms(main),
    workers: ms(workers),
    rest: ms(cpu - main - workers),
    idle: os.cpus().length * wall - ms(cpu),
    rss: r.maxRssMB,
    jobs,
    busy,
    starved,
    latency,
    answer,
    firstJob: Number.isFinite(firstJob) ? firstJob : NaN,
  };
}

function runChild(mode: string, file: string, dist: string | undefined): ChildResult {
  const probe = path.join(here, 'read-timeline-probe.js');
  const args = ['--import', pathToFileURL(probe).href, fileURLToPath(import.meta.url), '--child', mode, file, ...(dist ? [dist] : [])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`${mode} exited ${r.status}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
}

function zstdD(file: string): { wall: number; cpu: number } {
  const start = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %U %S', 'zstd', '-d', '-q', '-c', file], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  const wall = performance.now() - start;
  const m = /TIME ([\d.]+) ([\d.]+)/.exec(r.stderr ?? '');
  if (r.status !== 0 || !m) throw new Error(`zstd -d failed: ${r.stderr}`);
  return { wall, cpu: (Number(m[1]) + Number(m[2])) * 1000 };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') return child(argv[1]!, argv[2]!, argv[3]);
  let mode = 'bytes';
  let file = '';
  let runs = 5;
  let base: string | undefined;
  let json: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--case') mode = argv[++i]!;
    else if (argv[i] === '--file') file = argv[++i]!;
    else if (argv[i] === '--runs') runs = Number(argv[++i]);
    else if (argv[i] === '--base') base = path.resolve(argv[++i]!);
    else if (argv[i] === '--json') json = argv[++i]!;
    else throw new Error(`unknown option ${argv[i]}`);
  }
  if (!file) throw new Error('--file FILE is required (a CRC-framed .zst for --case bytes, a snapshot for batch and loop)');
  const builds: [string, string | undefined][] = [['this build', undefined], ...(base ? [['base', base] as [string, string]] : [])];
  const results = new Map<string, RunFigures[]>();
  const raw: Record<string, ChildResult[]> = {};
  const stock: { wall: number; cpu: number }[] = [];
  for (let run = 0; run < runs; run++) {
    stock.push(zstdD(file));
    // Which build goes first alternates.
    for (const [name, dist] of run % 2 === 0 ? builds : [...builds].reverse()) {
      const r = runChild(mode, file, dist);
      (raw[name] ??= []).push(r);
      (results.get(name) ?? results.set(name, []).get(name)!).push(figures(r));
    }
  }
  const cols: [string, (f: RunFigures) => number, number][] = [
    ['wall', (f) => f.wall, 0],
    ['CPU all', (f) => f.cpu, 0],
    ['main', (f) => f.main, 0],
    ['zstd workers', (f) => f.workers, 0],
    ['rest (V8, libuv)', (f) => f.rest, 0],
    ['idle cores', (f) => f.idle, 0],
    ['jobs', (f) => f.jobs, 0],
    ['workers busy', (f) => f.busy, 0],
    ['starved', (f) => f.starved, 0],
    ['latency', (f) => f.latency, 0],
    ['answer → main', (f) => f.answer, 0],
    ['first job', (f) => f.firstJob, 0],
    ['peak RSS MB', (f) => f.rss, 0],
  ];
  const lines = [
    `${mode}: ${file} (${(fs.statSync(file).size / 1e6).toFixed(0)} MB), ${os.cpus().length} cores, Node ${process.version}, median of ${runs} alternating runs, load average ${os.loadavg()[0]!.toFixed(1)} at the end; ms unless said.`,
    `zstd -d: wall ${median(stock.map((s) => s.wall)).toFixed(0)}, CPU ${median(stock.map((s) => s.cpu)).toFixed(0)}.`,
    '',
    `| build | ${cols.map((c) => c[0]).join(' | ')} | vs zstd -d (wall) |`,
    `|---|${cols.map(() => '---|').join('')}---|`,
  ];
  for (const [name] of builds) {
    const fs_ = results.get(name)!;
    const ratio = median(stock.map((s) => s.wall)) / median(fs_.map((f) => f.wall));
    lines.push(`| ${name} | ${cols.map(([, get, d]) => median(fs_.map(get)).toFixed(d)).join(' | ')} | ${ratio.toFixed(2)}× |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  if (json) fs.writeFileSync(json, JSON.stringify(raw));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
