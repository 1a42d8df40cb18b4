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
 *
 * `--cli` adds the rows of issue 15's own measure: the `snapstream` command, a fresh process per
 * run as a user runs it (`compress IN OUT --crc` against `zstd -1 -T1` and `lz4 -1`, and
 * `decompress < FILE` and `verify FILE` (the CRC trailer read and checked, no output) against
 * `zstd -d` and `lz4 -d`), with the median wall times and their ratio
 * beside the CPU times. `--only WORD,...` keeps the rows whose label holds one of the words (any case).
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
  cli: boolean;
  only: string[] | null;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { size: 256 * 1024 ** 2, runs: 3, dir: path.join(os.tmpdir(), 'snapstream-bench-cpu'), data: ['random', 'mixed', 'sample'], base: null, cli: false, only: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--size') {
      o.size = parseSize(argv[++i]!);
    } else if (a === '--runs') o.runs = Number(argv[++i]);
    else if (a === '--dir') o.dir = argv[++i]!;
    else if (a === '--base') o.base = path.resolve(argv[++i]!);
    else if (a === '--cli') o.cli = true;
    else if (a === '--only') o.only = argv[++i]!.split(',');
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

/**
 * Runs `cmd args` under GNU time, stdout to /dev/null unless `json` (a case's result line), stdin
 * from the file `stdin` if given.
 */
function timed(cmd: string, args: string[], json: boolean, stdin?: string): Measure {
  const input = stdin === undefined ? 'ignore' : fs.openSync(stdin, 'r');
  let r;
  try {
    r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %U %S', cmd, ...args], { encoding: 'utf8', stdio: [input, json ? 'pipe' : 'ignore', 'pipe'], maxBuffer: 1 << 20 });
  } finally {
    if (typeof input === 'number') fs.closeSync(input);
  }
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
  /** A row of the CLI: `snapstream ARGS [< stdin]` in place of a case. */
  cli?: (f: (n: string) => string, raw: string) => { args: string[]; stdin?: string };
  stock: ((f: (n: string) => string, raw: string) => [string, string[], string?]) | null;
  stockLabel?: string;
}

/** The CLI's rows (issue 15's measure), in an order where each decompress finds its file. */
function cliRows(): Row[] {
  const none = (): [string, string] => ['', ''];
  return [
    { label: 'CLI `compress IN OUT --crc` zstd', ours: none, cli: (f, raw) => ({ args: ['compress', raw, f('cli.zst'), '--crc'] }), stock: (f, raw) => ['zstd', ['-1', '-T1', '-q', '-f', raw, '-o', f('tool.zst')]], stockLabel: '`zstd -1 -T1`' },
    { label: 'CLI `decompress < FILE` zstd', ours: none, cli: (f) => ({ args: ['decompress'], stdin: f('cli.zst') }), stock: (f) => ['zstd', ['-d', '-q', '-c'], f('cli.zst')], stockLabel: '`zstd -d`' },
    { label: 'CLI `verify FILE` zstd', ours: none, cli: (f) => ({ args: ['verify', f('cli.zst')] }), stock: (f) => ['zstd', ['-d', '-q', '-c'], f('cli.zst')], stockLabel: '`zstd -d`' },
    { label: 'CLI `compress IN OUT --crc` lz4', ours: none, cli: (f, raw) => ({ args: ['compress', '--codec', 'lz4', raw, f('cli.lz4'), '--crc'] }), stock: (f, raw) => ['lz4', ['-1', '-q', '-f', raw, f('tool.lz4')]], stockLabel: '`lz4 -1`' },
    { label: 'CLI `decompress < FILE` lz4', ours: none, cli: (f) => ({ args: ['decompress'], stdin: f('cli.lz4') }), stock: (f) => ['lz4', ['-d', '-q', '-c'], f('cli.lz4')], stockLabel: '`lz4 -d`' },
    { label: 'CLI `verify FILE` lz4', ours: none, cli: (f) => ({ args: ['verify', f('cli.lz4')] }), stock: (f) => ['lz4', ['-d', '-q', '-c'], f('cli.lz4')], stockLabel: '`lz4 -d`' },
  ];
}

function rows(name: Dataset): Row[] {
  return [
    { label: '`compressFile` zstd', ours: (f, raw) => ['bytes-zstd', `${raw} ${f('ours.zst')}`], stock: (f, raw) => ['zstd', ['-1', '-T1', '-q', '-f', raw, '-o', f('tool.zst')]], stockLabel: '`zstd -1 -T1`' },
    { label: '`compressFile` lz4', ours: (f, raw) => ['bytes-lz4', `${raw} ${f('ours.lz4')}`], stock: (f, raw) => ['lz4', ['-1', '-q', '-f', raw, f('tool.lz4')]], stockLabel: '`lz4 -1`' },
    { label: 'read + verify zstd frames', ours: (f) => ['read-bytes', `${f('ours.zst')} -`], stock: (f) => ['zstd', ['-d', '-q', '-c', f('ours.zst')]], stockLabel: '`zstd -d`' },
    { label: 'read + verify lz4 frames', ours: (f) => ['read-bytes', `${f('ours.lz4')} -`], stock: (f) => ['lz4', ['-d', '-q', '-c', f('ours.lz4')]], stockLabel: '`lz4 -d`' },
    { label: 'composed `fs.createReadStream → createCompressor → createCrcFooter → fs.createWriteStream`', ours: (f, raw) => ['bytes-zstd-fs', `${raw} ${f('ours-fs.zst')}`], stock: (f, raw) => ['zstd', ['-1', '-T1', '-q', '-f', raw, '-o', f('tool.zst')]], stockLabel: '`zstd -1 -T1`' },
    { label: '`writeSnapshot`', ours: (f) => [name === 'sample' ? 'entries-buffer' : `entries-${name}`, `- ${f('snapshot.zst')}`], stock: (f, raw) => ['zstd', ['-1', '-T1', '-q', '-f', raw, '-o', f('tool.zst')]], stockLabel: '`zstd -1 -T1`' },
    ...(name === 'sample' ? [{ label: '`writeSnapshot` of strings', ours: (f: (n: string) => string): [string, string] => ['entries-string', `- ${f('snapshot-string.zst')}`], stock: null }] : []),
    { label: '`readSnapshot` (batches)', ours: (f) => ['read-entries', `${f('snapshot.zst')} -`], stock: (f) => ['zstd', ['-d', '-q', '-c', f('snapshot.zst')]], stockLabel: '`zstd -d`' },
  ];
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (s: number): string => `${Math.round(s * 1000)} ms`;

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  fs.mkdirSync(o.dir, { recursive: true });
  // Each build: its cases.js and its CLI.
  const builds: [string, string, string][] = [['this build', path.join(here, 'cases.js'), path.join(here, '..', '..', 'dist', 'cli', 'main.js')]];
  if (o.base) builds.unshift(['base', path.join(o.base, 'bench', 'dist', 'cases.js'), path.join(o.base, 'dist', 'cli', 'main.js')]);
  const rowsOf = (name: Dataset): Row[] =>
    [...rows(name), ...(o.cli ? cliRows() : [])].filter((r) => !o.only || o.only.some((w) => r.label.toLowerCase().includes(w.toLowerCase())));
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
      for (const row of rowsOf(name)) {
        // Which build goes first alternates too: the first of a pair often meets a busier page cache.
        for (const [build, cases, cli] of run % 2 === 0 ? builds : [...builds].reverse()) {
          if (row.cli) {
            const { args, stdin } = row.cli(f, raw);
            add(`${build}|${row.label}`, timed(process.execPath, [cli, '--quiet', ...args], false, stdin));
            continue;
          }
          const [c, files] = row.ours(f, raw);
          const [input, output] = files.split(' ');
          add(`${build}|${row.label}`, timed(process.execPath, [cases, c, input === '-' ? raw : input!, output === '-' ? '' : output!, String(o.size)], true));
        }
        if (row.stock) {
          const [cmd, args, stdin] = row.stock(f, raw);
          add(`stock|${row.label}`, timed(cmd, args, false, stdin));
        }
      }
    }
    const head = builds.map(([b]) => `${b}: process (case, main thread)`).join(' | ');
    lines.push('', `${name}: ${(o.size / 1024 ** 2).toFixed(0)} MiB, CPU time (user + system, every thread), median of ${o.runs} alternating runs, load average ${os.loadavg()[0]!.toFixed(1)} at the end`, '');
    lines.push(`| case | ${head} | stock tool | stock CPU | stock/ours | wall: ours, stock, stock/ours |`, `|---|${builds.map(() => '---|').join('')}---|---|---|---|`);
    for (const row of rowsOf(name)) {
      const cells = builds.map(([b]) => {
        const xs = results.get(`${b}|${row.label}`)!;
        const part = (k: 'caseCpu' | 'mainCpu'): string => (xs[0]![k] === undefined ? '?' : ms(median(xs.map((x) => x[k]!))));
        return `${ms(median(xs.map((x) => x.cpu)))} (${part('caseCpu')}, ${part('mainCpu')})`;
      });
      const ours = median(results.get(`this build|${row.label}`)!.map((x) => x.cpu));
      const stock = results.get(`stock|${row.label}`);
      const stockCpu = stock ? median(stock.map((x) => x.cpu)) : null;
      // Wall time: the speed ratio the issue's targets are stated in (noisy on a busy machine).
      const oursWall = median(results.get(`this build|${row.label}`)!.map((x) => x.wall));
      const stockWall = stock ? median(stock.map((x) => x.wall)) : null;
      const wall = stockWall === null ? '—' : `${ms(oursWall)}, ${ms(stockWall)}, ${oursWall > 0 ? `${(stockWall / oursWall).toFixed(2)}×` : '?'}`;
      lines.push(`| ${row.label} | ${cells.join(' | ')} | ${row.stockLabel ?? '—'} | ${stockCpu === null ? '—' : ms(stockCpu)} | ${stockCpu === null ? '—' : stockCpu < 0.01 ? 'under GNU time\'s 10 ms' : `${(stockCpu / ours).toFixed(2)}×`} | ${wall} |`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
