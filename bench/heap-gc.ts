/**
 * `npm run bench:heap-gc [-- --size 256m --runs 2 --case bytes-zstd-fs,bytes-zstd --node PATH,PATH
 * --flags "--a --b" --threads]`
 *
 * Where the write side's time goes in a big heap, per Node version: runs each case in a fresh
 * process and in one that first holds 3 M entries (bench/big-heap.ts), alternating, under
 * `--trace-gc`, and prints per case its CPU time (all threads, and the main thread alone), the
 * collections made during the case alone (scavenges, mark-compacts, and how many of those were
 * started by "external memory pressure"), and the big-heap CPU time over the fresh one. CPU time,
 * not wall time: a shared machine moves it far less.
 *
 * `--flags` adds Node/V8 options to every child (say `--scavenger-max-new-space-capacity-mb=8`,
 * what docs/GUIDE.md suggests for Node 24); `--node` takes a comma-separated list of binaries
 * (default: this one); `--threads` adds each run's CPU time by thread (the main thread, the zstd
 * workers, V8's and libuv's helper threads). Each child runs `heap-gc.js --child CASE RAW OUT SIZE [heap]`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PerformanceObserver, constants as perf } from 'node:perf_hooks';
import { holdEntries, settle } from './big-heap.js';
import { cases } from './cases.js';
import { cpuSeconds, peakRssMB } from './peak-rss.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const MARK = '## snapstream case start';

interface ChildResult {
  cpu: number;
  mainCpu: number;
  seconds: number;
  /** From PerformanceObserver: collections and their total pause, during the case. */
  minor: number;
  major: number;
  gcMs: number;
  /** Most ArrayBuffer memory seen (process.memoryUsage().arrayBuffers, sampled every 50 ms), MB. */
  arrayBuffersMB: number;
  /** Peak RSS of the process, MB (the big heap's included). */
  rssMB: number;
  /** CPU seconds during the case by thread name (main, zstd workers, V8's and libuv's helpers). */
  threads: Record<string, number>;
}

/** CPU seconds (user + system) of each of this process's threads, by thread id, with its name. */
function threadTimes(): Map<string, { name: string; cpu: number }> {
  const out = new Map<string, { name: string; cpu: number }>();
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, { name, cpu: (Number(fields[11]) + Number(fields[12])) / 100 });
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

async function child(name: string, raw: string, out: string, size: number, heap: boolean): Promise<void> {
  const fn = cases[name];
  if (!fn) throw new Error(`unknown case ${name}`);
  if (heap) {
    holdEntries();
    await settle();
  }
  let minor = 0;
  let major = 0;
  let gcMs = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === perf.NODE_PERFORMANCE_GC_MINOR) minor++;
      else if (kind === perf.NODE_PERFORMANCE_GC_MAJOR) major++;
      gcMs += e.duration;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  let arrayBuffers = 0;
  const sampler = setInterval(() => (arrayBuffers = Math.max(arrayBuffers, process.memoryUsage().arrayBuffers)), 50);
  // --trace-gc writes to stdout: the parent counts the lines after this one.
  process.stdout.write(`${MARK}\n`);
  const threads0 = threadTimes();
  const cpu0 = cpuSeconds();
  const start = performance.now();
  await fn({ raw, out, size });
  const seconds = (performance.now() - start) / 1000;
  const cpu1 = cpuSeconds();
  const threads: Record<string, number> = {};
  for (const [tid, t] of threadTimes()) {
    // Threads are named by what they are: the main thread by the program, Node's worker threads
    // 'node' or after their script, V8's helpers 'V8 DefaultWorke', libuv's 'libuv-worker'.
    const name = tid === String(process.pid) ? 'main' : t.name;
    threads[name] = +((threads[name] ?? 0) + t.cpu - (threads0.get(tid)?.cpu ?? 0)).toFixed(2);
  }
  clearInterval(sampler);
  // Entries of the last collections are delivered asynchronously.
  await new Promise((r) => setImmediate(r));
  obs.disconnect();
  const result: ChildResult = {
    cpu: cpu0 && cpu1 ? cpu1.process - cpu0.process : NaN,
    mainCpu: cpu0 && cpu1 ? cpu1.thread - cpu0.thread : NaN,
    seconds,
    minor,
    major,
    gcMs,
    arrayBuffersMB: arrayBuffers / 1e6,
    rssMB: peakRssMB(),
    threads,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

interface Run extends ChildResult {
  /** From --trace-gc, during the case. */
  traceScavenges: number;
  traceMarkCompacts: number;
  externalPressure: number;
  /** Scavenges V8 made for the ArrayBuffers of the young generation ("external memory pressure"). */
  scavengesExternal: number;
}

function runChild(node: string, flags: string[], name: string, raw: string, out: string, size: number, heap: boolean): Promise<Run> {
  const args = [...flags, '--trace-gc', '--trace-incremental-marking', ...(heap ? ['--max-old-space-size=4096'] : []), path.join(here, 'heap-gc.js'), '--child', name, raw, out, String(size), ...(heap ? ['heap'] : [])];
  return new Promise((resolve, reject) => {
    const c = spawn(node, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    c.stdout.on('data', (d: Buffer) => (text += d));
    c.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${name} exited ${code}`));
      const lines = text.slice(text.indexOf(MARK) + MARK.length).split('\n');
      const json = lines.filter((l) => l.startsWith('{')).pop();
      if (!json) return reject(new Error(`${name}: no result`));
      // Worker threads' isolates trace too: the main isolate is the one that traced the most
      // (holding the entries, in a big heap; the workers allocate almost nothing).
      const isolateOf = (l: string): string => /\[\d+:(0x[0-9a-f]+)(?::\d+)?\]/.exec(l)?.[1] ?? '';
      const counts = new Map<string, number>();
      for (const l of text.split('\n')) if (isolateOf(l)) counts.set(isolateOf(l), (counts.get(isolateOf(l)) ?? 0) + 1);
      const main = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
      const mine = lines.filter((l) => isolateOf(l) === main);
      const gcLines = mine.filter((l) => /\d+ ms: /.test(l));
      resolve({
        ...(JSON.parse(json) as ChildResult),
        traceScavenges: gcLines.filter((l) => /Scavenge|Minor/.test(l)).length,
        traceMarkCompacts: gcLines.filter((l) => /Mark-Compact|Mark-sweep/i.test(l)).length,
        scavengesExternal: gcLines.filter((l) => /Scavenge/.test(l) && /external memory pressure/.test(l)).length,
        externalPressure: mine.filter((l) => /IncrementalMarking\] Start \(external memory pressure\)/.test(l)).length,
      });
    });
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(argv: string[]): Promise<void> {
  let size = 256 * 1024 * 1024;
  let runs = 2;
  let names = ['bytes-zstd-fs'];
  let nodes = [process.execPath];
  let flags: string[] = [];
  let dir = path.join(os.tmpdir(), 'snapstream-bench');
  let showThreads = false;
  const detail: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--size') size = Number(/^(\d+)m$/i.exec(argv[++i]!)?.[1] ?? NaN) * 1024 * 1024;
    else if (a === '--runs') runs = Number(argv[++i]);
    else if (a === '--case') names = argv[++i]!.split(',');
    else if (a === '--node') nodes = argv[++i]!.split(',');
    else if (a === '--flags') flags = argv[++i]!.split(' ').filter(Boolean);
    else if (a === '--dir') dir = argv[++i]!;
    else if (a === '--threads') showThreads = true;
    else throw new Error(`unknown option ${a}`);
  }
  if (!Number.isFinite(size)) throw new Error('--size takes MiB, like 256m');
  // The sample data set as bench/run.ts writes it (`npm run bench -- --size 256m --data sample` makes it).
  const raw = path.join(dir, `raw-${size}.bin`);
  if (!fs.existsSync(raw)) throw new Error(`${raw} is missing: run \`npm run bench -- --size ${size / 1048576}m --runs 1 --data sample\` once`);
  const out = path.join(os.tmpdir(), `snapstream-heap-gc-${process.pid}.zst`);
  process.stdout.write(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; ${size / 1048576} MiB; flags: ${flags.join(' ') || '(none)'}\n`);
  process.stdout.write('| Node | case | fresh CPU s (main), most ArrayBuffers / peak RSS | fresh scavenges (for ArrayBuffers) / MC | heap CPU s (main), most ArrayBuffers / peak RSS | heap scavenges (for ArrayBuffers) / MC (started by external memory) | heap CPU / fresh CPU |\n|---|---|---|---|---|---|---|\n');
  for (const node of nodes) {
    const version = await new Promise<string>((resolve) => {
      const c = spawn(node, ['-p', 'process.version'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let t = '';
      c.stdout.on('data', (d: Buffer) => (t += d));
      c.on('exit', () => resolve(t.trim()));
    });
    for (const name of names) {
      const fresh: Run[] = [];
      const heap: Run[] = [];
      for (let r = 0; r < runs; r++) {
        fresh.push(await runChild(node, flags, name, raw, out, size, false));
        heap.push(await runChild(node, flags, name, raw, out, size, true));
      }
      const cell = (xs: Run[]): string => `${xs.map((x) => `${x.cpu.toFixed(2)} (${x.mainCpu.toFixed(2)}) ${Math.round(x.arrayBuffersMB)}/${Math.round(x.rssMB)} MB`).join(', ')}`;
      const gcs = (xs: Run[], ext: boolean): string => xs.map((x) => `${x.traceScavenges} (${x.scavengesExternal}) / ${x.traceMarkCompacts}${ext ? ` (${x.externalPressure})` : ''}`).join(', ');
      const ratio = median(heap.map((x) => x.cpu)) / median(fresh.map((x) => x.cpu));
      process.stdout.write(`| ${version} | ${name} | ${cell(fresh)} | ${gcs(fresh, false)} | ${cell(heap)} | ${gcs(heap, true)} | ${ratio.toFixed(2)} |\n`);
      if (showThreads) for (const [label, xs] of [['fresh', fresh], ['heap', heap]] as const) detail.push(`${version} ${name} ${label}: ${xs.map((x) => `wall ${x.seconds.toFixed(2)} s ${JSON.stringify(x.threads)}`).join(' ')}`);
    }
  }
  // On a quiet machine a thread's CPU time over the wall time is how busy it was: the zstd
  // workers' ("WorkerThread", or "node" under Node 20) share of each core is what the ratio to
  // `zstd -1 -T1` is made of.
  if (detail.length > 0) process.stdout.write(`\nCPU seconds by thread during the case:\n${detail.join('\n')}\n`);
  fs.rmSync(out, { force: true });
}

if (process.argv[2] === '--child') {
  const [, , , name, raw, out, size, heap] = process.argv;
  child(name!, raw!, out!, Number(size), heap === 'heap').catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
