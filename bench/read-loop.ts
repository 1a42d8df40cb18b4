/**
 * `npm run bench:read-loop [-- --entries 1200000 --runs 5 --dir DIR --node PATH --against DIST --update-docs]`
 *
 * Reading small entries (issue 14): a snapshot of `--entries` entries of about 150 bytes
 * (`sampleEntries` keys, values cut to 130 bytes, zstd level 1), read by `zstd -d` into
 * /dev/null, by the README's loop `for await (const e of readSnapshot(f))` and by
 * `readSnapshot(f, { batch: true })` and `readSnapshot(f, { batch: 'columns' })` (once making
 * every key and value with `key(i)` and `value(i)`, once reading each in place through the
 * offsets: its length and first byte), alternating, each snapstream case in a fresh process (and
 * batch mode once more as the second read of a process, its worker threads already running);
 * every case's consumer touches every key and value;
 * prints the medians, the ratios with their targets, and the CPU time (user + system, all
 * threads) of each snapstream case, which moves far less than wall time on a shared machine,
 * and that of its main thread alone. `--node PATH` runs the snapstream cases under another Node
 * binary; `--update-docs` writes the table into docs/BENCHMARKS.md ("Reading entries and bytes").
 * `--against DIST` runs each snapstream case also with another build's `dist` directory (an older
 * commit's, built elsewhere), alternating with this one in the same runs, and prints a
 * before → after table of CPU time and peak RSS. `--no-columns` leaves the columns cases out.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readSnapshot, sampleEntries, writeSnapshot, type Entry, type EntryColumns } from 'snapstream';
import { BENCH_NOW } from './bench-now.js';
import { peakRssMB } from './peak-rss.js';


/** The ~150-byte entries: sample keys, values cut to 130 bytes, a quarter with an expiry. */
function* smallEntries(count: number): Generator<Entry> {
  for (const e of sampleEntries({ count, now: BENCH_NOW })) {
    const value = (e.value as Buffer).subarray(0, 130);
    yield e.expiresAt === undefined ? { key: e.key, value } : { key: e.key, value, expiresAt: e.expiresAt };
  }
}

interface Sample {
  seconds: number;
  cpuSeconds?: number;
  /** CPU time of the main thread alone (Linux: /proc/thread-self/schedstat). */
  mainCpuSeconds?: number;
  maxRssMB?: number;
  /** Milliseconds from the call to readSnapshot to the first entry in the caller's hands. */
  firstMs?: number;
}

/** Nanoseconds this thread has run, or NaN where Linux's schedstat is not there. */
function threadCpuNs(): number {
  try {
    return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}

/** A child: `node read-loop.js --case loop|batch FILE`. */
async function child(mode: string, file: string): Promise<void> {
  // `--against`: another build's readSnapshot, loaded before the clock starts.
  const other = process.env.READ_LOOP_DIST;
  const read: typeof readSnapshot = other ? ((await import(pathToFileURL(path.join(other, 'index.js')).href)) as { readSnapshot: typeof readSnapshot }).readSnapshot : readSnapshot;
  const start = performance.now();
  const cpu = process.cpuUsage();
  const mainStart = threadCpuNs();
  let n = 0;
  let firstMs = 0;
  if (mode === 'loop') {
    for await (const e of read(file)) {
      if (n === 0) firstMs = performance.now() - start;
      if (e.key && e.value) n++;
    }
  } else if (mode === 'columns') {
    // Every key and value made, as the other cases have them made for them.
    for await (const batch of read(file, { batch: 'columns' }) as AsyncIterable<EntryColumns>) {
      if (n === 0) firstMs = performance.now() - start;
      for (let i = 0; i < batch.length; i++) if (batch.key(i) && batch.value(i)) n++;
    }
  } else if (mode === 'columns-offsets') {
    // Every key and value read in place: its length and first byte, through the offsets.
    let sum = 0;
    for await (const batch of read(file, { batch: 'columns' }) as AsyncIterable<EntryColumns>) {
      if (n === 0) firstMs = performance.now() - start;
      const { data, offsets } = batch;
      for (let i = 0; i < batch.length; i++) {
        const k = offsets[3 * i]!;
        const v = offsets[3 * i + 1]!;
        sum += data[k]! + data[v]! + offsets[3 * i + 2]! - k;
      }
      n += batch.length;
    }
    if (sum === 0) throw new Error('nothing read');
  } else if (mode === 'batch-warm') {
    // Timed from here on: a second read, the worker threads already running.
    for await (const batch of read(file, { batch: true })) n += (batch as unknown[]).length;
    return child('batch', file);
  } else {
    for await (const batch of read(file, { batch: true }) as AsyncIterable<{ key: unknown; value: unknown }[]>) {
      if (n === 0) firstMs = performance.now() - start;
      for (const e of batch) if (e.key && e.value) n++;
    }
  }
  if (n === 0) throw new Error('no entries read');
  const used = process.cpuUsage(cpu);
  const main = (threadCpuNs() - mainStart) / 1e9;
  const out: Sample = {
    seconds: (performance.now() - start) / 1000,
    cpuSeconds: (used.user + used.system) / 1e6,
    ...(Number.isFinite(main) ? { mainCpuSeconds: main } : {}),
    maxRssMB: peakRssMB(),
    firstMs,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function ours(node: string, mode: string, file: string, dist?: string): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const env = dist ? { ...process.env, READ_LOOP_DIST: path.resolve(dist) } : process.env;
    const c = spawn(node, [fileURLToPath(import.meta.url), '--case', mode, file], { stdio: ['ignore', 'pipe', 'inherit'], env });
    let text = '';
    c.stdout.on('data', (d: Buffer) => (text += d));
    c.on('exit', (code) => (code === 0 ? resolve(JSON.parse(text) as Sample) : reject(new Error(`${mode} exited ${code}`))));
  });
}

function zstd(file: string): Sample {
  const start = performance.now();
  const r = spawnSync('zstd', ['-d', '-q', '-c', file], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error('zstd -d failed');
  return { seconds: (performance.now() - start) / 1000 };
}

const nodeVersion = (node: string): string => spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--case') return child(argv[1]!, argv[2]!);
  let entries = 1_200_000;
  let runs = 5;
  let dir = path.join(os.tmpdir(), 'snapstream-bench');
  let node = process.execPath;
  let updateDocs = false;
  let against: string | undefined;
  let noColumns = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--entries') entries = Number(argv[++i]);
    else if (argv[i] === '--runs') runs = Number(argv[++i]);
    else if (argv[i] === '--dir') dir = argv[++i]!;
    else if (argv[i] === '--node') node = argv[++i]!;
    else if (argv[i] === '--update-docs') updateDocs = true;
    else if (argv[i] === '--against') against = argv[++i]!;
    else if (argv[i] === '--no-columns') noColumns = true;
    else throw new Error(`unknown option ${argv[i]}`);
  }
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `small-${entries}.snap.zst`);
  if (!fs.existsSync(file)) {
    process.stderr.write(`writing ${entries} entries of ~150 bytes to ${file} …\n`);
    await writeSnapshot(smallEntries(entries), `${file}.tmp`, { codec: 'zstd', level: 1 });
    fs.renameSync(`${file}.tmp`, file);
  }
  const raw = Number(spawnSync('zstd', ['-lv', file], { encoding: 'utf8' }).stdout.match(/Decompressed Size:.*\((\d+) B\)/)?.[1] ?? NaN);
  const samples: Record<string, Sample[]> = { zstd: [], loop: [], batch: [], columns: [], 'columns-offsets': [], 'batch-warm': [], 'old-loop': [], 'old-batch': [] };
  for (let run = 0; run < runs; run++) {
    process.stderr.write(`run ${run + 1}/${runs}\n`);
    samples.zstd!.push(zstd(file));
    samples.loop!.push(await ours(node, 'loop', file));
    samples.batch!.push(await ours(node, 'batch', file));
    if (!noColumns) {
      samples.columns!.push(await ours(node, 'columns', file));
      samples['columns-offsets']!.push(await ours(node, 'columns-offsets', file));
    }
    samples['batch-warm']!.push(await ours(node, 'batch-warm', file));
    if (against) {
      samples['old-loop']!.push(await ours(node, 'loop', file, against));
      samples['old-batch']!.push(await ours(node, 'batch', file, against));
    }
  }
  const sec = (k: string): number => median(samples[k]!.map((s) => s.seconds));
  const cpu = (k: string): number => median(samples[k]!.map((s) => s.cpuSeconds ?? 0));
  const mainCpu = (k: string): string => {
    const xs = samples[k]!.map((s) => s.mainCpuSeconds ?? NaN);
    return xs.some(Number.isNaN) ? '–' : `${median(xs).toFixed(3)} s`;
  };
  const rss = (k: string): number => Math.max(...samples[k]!.map((s) => s.maxRssMB ?? 0));
  const firstEntry = (k: string): string => `${median(samples[k]!.map((s) => s.firstMs ?? 0)).toFixed(0)} ms`;
  const perEntry = (k: string): string => `${((sec(k) / entries) * 1e6).toFixed(2)} µs`;
  const rows: [string, string, number][] = [
    ["the README's loop `for await (const e of readSnapshot(f))`", 'loop', 0.4],
    ['`readSnapshot(f, { batch: true })`', 'batch', 0.6],
    ['the same, a second read in the process (worker threads running)', 'batch-warm', 0],
    ...(noColumns
      ? []
      : ([
          ["`readSnapshot(f, { batch: 'columns' })`, `key(i)` and `value(i)` of every entry", 'columns', 0.6],
          ["`batch: 'columns'`, every key and value read in place through `offsets`", 'columns-offsets', 0.6],
        ] as [string, string, number][])),
  ];
  const lines = [
    `${entries} entries of ~150 bytes (${(raw / 1e6).toFixed(0)} MB raw, ${(fs.statSync(file).size / 1e6).toFixed(0)} MB on disk), median of ${runs} runs, ${os.cpus().length} cores, Node ${nodeVersion(node)}, load average ${os.loadavg()[0]!.toFixed(1)} at the end.`,
    '',
    `\`zstd -d\`: ${sec('zstd').toFixed(3)} s.`,
    '',
    '| reading | time | first entry | per entry | CPU time | main thread CPU | peak RSS | vs `zstd -d` | target | |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  let missed = 0;
  for (const [what, k, target] of rows) {
    const ratio = sec('zstd') / sec(k);
    if (ratio < target) missed++;
    const verdict = target === 0 ? '| – | |' : `| ≥ ${target}× | ${ratio >= target ? 'ok' : 'MISSED'} |`;
    lines.push(`| ${what} | ${sec(k).toFixed(3)} s | ${firstEntry(k)} | ${perEntry(k)} | ${cpu(k).toFixed(3)} s | ${mainCpu(k)} | ${rss(k).toFixed(0)} MB | ${ratio.toFixed(2)}× ${verdict}`);
  }
  const table = lines.join('\n');
  process.stdout.write(`${table}\n`);
  if (against) {
    const cmp = [
      '',
      `Against ${against} (before → this build, same runs, alternating; CPU medians, peak RSS the largest):`,
      '',
      '| reading | time | first entry | CPU time | main thread CPU | peak RSS |',
      '|---|---|---|---|---|---|',
    ];
    for (const [what, k] of [['README loop', 'loop'], ['batch mode', 'batch']] as const) {
      cmp.push(`| ${what} | ${sec(`old-${k}`).toFixed(3)} → ${sec(k).toFixed(3)} s | ${firstEntry(`old-${k}`)} → ${firstEntry(k)} | ${cpu(`old-${k}`).toFixed(3)} → ${cpu(k).toFixed(3)} s | ${mainCpu(`old-${k}`)} → ${mainCpu(k)} | ${rss(`old-${k}`).toFixed(0)} → ${rss(k).toFixed(0)} MB |`);
    }
    process.stdout.write(`${cmp.join('\n')}\n`);
  }
  if (updateDocs) {
    const doc = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'BENCHMARKS.md');
    const text = fs.readFileSync(doc, 'utf8');
    const start = '<!-- read-loop:start -->';
    const end = '<!-- read-loop:end -->';
    if (!text.includes(start) || !text.includes(end)) throw new Error(`${doc} has no ${start} … ${end} markers`);
    fs.writeFileSync(doc, text.replace(/<!-- read-loop:start -->[\s\S]*?<!-- read-loop:end -->/, () => `${start}\n${table}\n${end}`));
  }
  process.exitCode = missed > 0 ? 1 : 0;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
