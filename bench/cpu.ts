/**
 * `npm run bench:cpu [-- --size 256m --runs 3 --data random,mixed,sample --base DIR]`
 *
 * CPU time (user + system, every thread) of the main bench's byte and read cases and of the
 * stock tools on the same files, for a machine too busy for wall-clock ratios to mean much:
 * CPU time moves far less with the load than wall time. Each snapstream case runs in a fresh
 * process (bench/cases.ts), under GNU time, so its figure includes starting Node and loading
 * snapstream, as the stock tools' figures include starting them; the case's own CPU time (every
 * thread, and the main thread alone, from /proc) is shown beside it. `--base DIR` runs the same
 * cases of another build too (a checkout with `dist/` and `bench/dist/` built), alternating with
 * this one, for before/after figures. Medians of `--runs` alternating runs.
 *
 * The data sets are those of `npm run bench` (bench/datasets.ts), generated into `--dir` if absent.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DATASETS, type Dataset } from './datasets.js';
import { parseSize } from './bench-args.js';
import { ensureRawDataset } from './raw-dataset.js';

const here = path.dirname(fileURLToPath(import.meta.url));

interface Options {
  size: number;
  runs: number;
  dir: string;
  data: Dataset[];
  base: string | null;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { size: 256 * 1024 ** 2, runs: 3, dir: path.join(os.tmpdir(), 'snapstream-bench-cpu'), data: ['random', 'mixed', 'sample'], base: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--size') {
      o.size = parseSize(argv[++i]!);
    } else if (a === '--runs') o.runs = Number(argv[++i]);
    else if (a === '--dir') o.dir = argv[++i]!;
    else if (a === '--base') o.base = path.resolve(argv[++i]!);
    else if (a === '--data') {
      o.data = argv[++i]!.split(',') as Dataset[];
      for (const d of o.data) if (!DATASETS.includes(d)) throw new Error(`unknown data set ${d}`);
    } else throw new Error(`unknown option ${a}`);
  }
  return o;
}

interface Measure {
  /** CPU seconds of the whole process (user + system, every thread), from GNU time. */
  cpu: number;
  wall: number;
  /** The case's own CPU seconds (every thread) and its main thread's, snapstream cases only. */
  caseCpu?: number;
  mainCpu?: number;
}

/** Runs `cmd args` under GNU time, stdout to /dev/null unless `json` (a case's result line). */
function timed(cmd: string, args: string[], json: boolean): Measure {
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %U %S', cmd, ...args], { encoding: 'utf8', stdio: ['ignore', json ? 'pipe' : 'ignore', 'pipe'], maxBuffer: 1 << 20 });
  const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+)/.exec(r.stderr ?? '');
  if (r.status !== 0 || !m) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  const out: Measure = { wall: Number(m[1]), cpu: Number(m[2]) + Number(m[3]) };
  if (json) {
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as { cpuSeconds?: number; mainCpuSeconds?: number };
    if (j.cpuSeconds !== undefined) out.caseCpu = j.cpuSeconds;
    if (j.mainCpuSeconds !== undefined) out.mainCpu = j.mainCpuSeconds;
  }
  return out;
}


/** One row: a snapstream case against a stock tool (`stock` null: none to compare with). */
interface Row {
  label: string;
  ours: (f: (n: string) => string, raw: string) => [string, string];
  stock: ((f: (n: string) => string, raw: string) => [string, string[]]) | null;
  stockLabel?: string;
}

function rows(name: Dataset): Row[] {
  return [
    { label: '`compressFile` zstd', ours: (f, raw) => ['bytes-zstd', `${raw} ${f('ours.zst')}`], stock: (f, raw) => ['zstd', ['-1', '-T1', '-q', '-f', raw, '-o', f('tool.zst')]], stockLabel: '`zstd -1 -T1`' },
    { label: '`compressFile` lz4', ours: (f, raw) => ['bytes-lz4', `${raw} ${f('ours.lz4')}`], stock: (f, raw) => ['lz4', ['-1', '-q', '-f', raw, f('tool.lz4')]], stockLabel: '`lz4 -1`' },
    { label: 'read + verify zstd frames', ours: (f) => ['read-bytes', `${f('ours.zst')} -`], stock: (f) => ['zstd', ['-d', '-q', '-c', f('ours.zst')]], stockLabel: '`zstd -d`' },
    { label: 'read + verify lz4 frames', ours: (f) => ['read-bytes', `${f('ours.lz4')} -`], stock: (f) => ['lz4', ['-d', '-q', '-c', f('ours.lz4')]], stockLabel: '`lz4 -d`' },
    { label: '`writeSnapshot`', ours: (f) => [name === 'sample' ? 'entries-buffer' : `entries-${name}`, `- ${f('snapshot.zst')}`], stock: null },
    { label: '`readSnapshot` (batches)', ours: (f) => ['read-entries', `${f('snapshot.zst')} -`], stock: (f) => ['zstd', ['-d', '-q', '-c', f('snapshot.zst')]], stockLabel: '`zstd -d`' },
  ];
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (s: number): string => `${Math.round(s * 1000)} ms`;

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  fs.mkdirSync(o.dir, { recursive: true });
  const builds: [string, string][] = [['this build', path.join(here, 'cases.js')]];
  if (o.base) builds.unshift(['base', path.join(o.base, 'bench', 'dist', 'cases.js')]);
  const lines: string[] = [];
  for (const name of o.data) {
    const raw = await ensureRawDataset(o.dir, name, o.size);
    const dir = path.join(o.dir, name);
    fs.mkdirSync(dir, { recursive: true });
    const f = (n: string): string => path.join(dir, n);
    const results = new Map<string, Measure[]>();
    const add = (k: string, m: Measure): void => void (results.get(k) ?? results.set(k, []).get(k)!).push(m);
    for (let run = 0; run < o.runs; run++) {
      // In row order, so each read case finds the file its compress case wrote; builds alternate.
      for (const row of rows(name)) {
        // Which build goes first alternates too: the first of a pair often meets a busier page cache.
        for (const [build, cases] of run % 2 === 0 ? builds : [...builds].reverse()) {
          const [c, files] = row.ours(f, raw);
          const [input, output] = files.split(' ');
          add(`${build}|${row.label}`, timed(process.execPath, [cases, c, input === '-' ? raw : input!, output === '-' ? '' : output!, String(o.size)], true));
        }
        if (row.stock) {
          const [cmd, args] = row.stock(f, raw);
          add(`stock|${row.label}`, timed(cmd, args, false));
        }
      }
    }
    const head = builds.map(([b]) => `${b}: process (case, main thread)`).join(' | ');
    lines.push('', `${name}: ${(o.size / 1024 ** 2).toFixed(0)} MiB, CPU time (user + system, every thread), median of ${o.runs} alternating runs, load average ${os.loadavg()[0]!.toFixed(1)} at the end`, '');
    lines.push(`| case | ${head} | stock tool | stock CPU | stock/ours |`, `|---|${builds.map(() => '---|').join('')}---|---|---|`);
    for (const row of rows(name)) {
      const cells = builds.map(([b]) => {
        const xs = results.get(`${b}|${row.label}`)!;
        const part = (k: 'caseCpu' | 'mainCpu'): string => (xs[0]![k] === undefined ? '?' : ms(median(xs.map((x) => x[k]!))));
        return `${ms(median(xs.map((x) => x.cpu)))} (${part('caseCpu')}, ${part('mainCpu')})`;
      });
      const ours = median(results.get(`this build|${row.label}`)!.map((x) => x.cpu));
      const stock = results.get(`stock|${row.label}`);
      const stockCpu = stock ? median(stock.map((x) => x.cpu)) : null;
      lines.push(`| ${row.label} | ${cells.join(' | ')} | ${row.stockLabel ?? '—'} | ${stockCpu === null ? '—' : ms(stockCpu)} | ${stockCpu === null ? '—' : stockCpu < 0.01 ? 'under GNU time\'s 10 ms' : `${(stockCpu / ours).toFixed(2)}×`} |`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
