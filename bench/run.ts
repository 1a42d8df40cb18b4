/**
 * `npm run bench [-- --size 1g --runs 3 --data sample,random,mixed,small --node PATH --update-docs]`
 *
 * Generates deterministic key/value data sets (bench/datasets.ts: `sample` ≈4× with zstd level
 * 1, `random` values that do not compress, `mixed` values half random, half text, `small`
 * entries of ≈ 150 bytes), then
 * measures snapstream and the stock tools on the same bytes, in one run, interleaved, taking
 * the median of several runs (these machines are noisy: only ratios measured together mean
 * much). Each snapstream case runs in its own process, so its peak RSS is its own; a `heap:`
 * case runs in a process that already holds 3 M entries (bench/big-heap.ts), started with
 * `--max-old-space-size=4096` as such a process is (a `heapopt:` case also with the V8 option
 * docs/GUIDE.md suggests for big heaps under Node 24 and 26). `--node PATH` runs the snapstream cases
 * under another Node binary (the stock tools are the same).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { datasetEntries, DATASETS, type Dataset } from './datasets.js';
import { parseSize, sizeLabel } from './bench-args.js';
import { ensureRawDataset } from './raw-dataset.js';
import { throughputChart } from './svg-chart.js';

interface Options {
  size: number;
  runs: number;
  dir: string;
  updateDocs: boolean;
  data: Dataset[];
  /** The Node binary of the snapstream cases. */
  node: string;
}


function parseOptions(argv: string[]): Options {
  const o: Options = { size: 1024 ** 3, runs: 3, dir: path.join(os.tmpdir(), 'snapstream-bench'), updateDocs: false, data: [...DATASETS], node: process.execPath };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--size') o.size = parseSize(argv[++i]!);
    else if (a === '--runs') o.runs = Number(argv[++i]);
    else if (a === '--dir') o.dir = argv[++i]!;
    else if (a === '--update-docs') o.updateDocs = true;
    else if (a === '--node') o.node = argv[++i]!;
    else if (a === '--data') {
      o.data = argv[++i]!.split(',') as Dataset[];
      for (const d of o.data) if (!DATASETS.includes(d)) throw new Error(`unknown data set ${d} (${DATASETS.join(', ')})`);
    }
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const here = path.dirname(fileURLToPath(import.meta.url));


interface Sample {
  seconds: number;
  maxRssMB?: number;
}

let nodeBinary = process.execPath;

/** Runs one snapstream case in a fresh process (a `heap:` case as a big-heap process is started). */
function ours(name: string, raw: string, out: string, size: number): Promise<Sample> {
  // `heapopt:CASE`: the `heap:` case, started with the V8 option docs/GUIDE.md suggests for big heaps.
  const option = name.startsWith('heapopt:') ? bigHeapOption() : null;
  const flags = name.startsWith('heap') ? ['--max-old-space-size=4096', ...(option ? [option] : [])] : [];
  const caseName = name.startsWith('heapopt:') ? `heap:${name.slice('heapopt:'.length)}` : name;
  return new Promise((resolve, reject) => {
    const child = spawn(nodeBinary, [...flags, path.join(here, 'cases.js'), caseName, raw, out, String(size)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(text) as Sample) : reject(new Error(`${name} exited ${code}`))));
  });
}

/** Runs a stock tool, stdout to `stdoutPath` (or /dev/null). */
function tool(cmd: string, args: string[], stdoutPath = '/dev/null'): Sample {
  const fd = fs.openSync(stdoutPath, 'w');
  const start = performance.now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', fd, 'inherit'] });
  const seconds = (performance.now() - start) / 1000;
  fs.closeSync(fd);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed`);
  return { seconds };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Row {
  what: string;
  ours: string;
  theirs: string;
  /** Absent for rows shown for comparison only. */
  target?: number;
}

/**
 * The composable byte pipeline and writeSnapshot inside a process holding 3 M entries, against
 * the same case in a fresh process (issue 14: at least 0.9× of it).
 */
function bigHeapRows(pipeline: string, entries: string): Row[] {
  const option = bigHeapOption();
  return [
    { what: 'the composed byte pipeline in a process holding 3 M entries vs the same, fresh', ours: `heap:${pipeline}`, theirs: pipeline, target: 0.9 },
    ...(option ? [{ what: `the same started with \`${option}\` (docs/GUIDE.md, "Big heaps") vs fresh`, ours: `heapopt:${pipeline}`, theirs: pipeline }] : []),
    { what: 'the composed byte pipeline in a process holding 3 M entries vs `zstd -1 -T1`', ours: `heap:${pipeline}`, theirs: 'zstd -1 -T1' },
    { what: '`writeSnapshot` in a process holding 3 M entries vs the same, fresh', ours: `heap:${entries}`, theirs: entries, target: 0.9 },
  ];
}

let heapOption: string | null | undefined;

/**
 * The V8 option docs/GUIDE.md suggests for big heaps under the cases' Node ("Big heaps under
 * Node 24 and 26"), or null under Node 20 and 22, which need none (docs/BENCHMARKS.md, "Why
 * Node 24 and 26 collect the whole heap").
 */
function bigHeapOption(): string | null {
  if (heapOption !== undefined) return heapOption;
  const major = Number(/^v(\d+)/.exec(nodeVersion(nodeBinary))?.[1] ?? 0);
  heapOption = major === 24 ? '--scavenger-max-new-space-capacity-mb=8' : major >= 25 ? '--external-memory-accounted-in-global-limit' : null;
  return heapOption;
}

/** The rows of one data set: what is measured against what, with the targets (bench/datasets.ts). */
interface Plan {
  title: string;
  rows: Row[];
  /** Cases whose peak RSS is shown (with a target unless listed in `comparison`). */
  rss: string[];
}

/** Runs one data set's cases, once. */
type Runner = (raw: string, f: (name: string) => string, size: number, add: (k: string, s: Sample) => void) => Promise<void>;

const runners: Record<Dataset, Runner> = {
  async sample(raw, f, size, add) {
    add('zstd -1 -T1', tool('zstd', ['-1', '-T1', '-q', '-f', raw, '-o', f('tool.zst')]));
    add('zstd -1 -T2', tool('zstd', ['-1', '-T2', '-q', '-f', raw, '-o', f('tool.zst')]));
    add('lz4', tool('lz4', ['-1', '-q', '-f', raw, f('tool.lz4')]));
    add('bytes-zstd', await ours('bytes-zstd', raw, f('ours.zst'), size));
    add('bytes-lz4', await ours('bytes-lz4', raw, f('ours.lz4'), size));
    add('bytes-zstd-fs', await ours('bytes-zstd-fs', raw, f('ours-fs.zst'), size));
    add('bytes-zstd-fs-256k', await ours('bytes-zstd-fs-256k', raw, f('ours-fs.zst'), size));
    add('heap:bytes-zstd-fs', await ours('heap:bytes-zstd-fs', raw, f('ours-fs.zst'), size));
    if (bigHeapOption()) add('heapopt:bytes-zstd-fs', await ours('heapopt:bytes-zstd-fs', raw, f('ours-fs.zst'), size));
    add('entries-buffer', await ours('entries-buffer', raw, f('snapshot-buffer.zst'), size));
    add('heap:entries-buffer', await ours('heap:entries-buffer', raw, f('snapshot-buffer.zst'), size));
    add('entries-string', await ours('entries-string', raw, f('snapshot-string.zst'), size));
    add('zstd -d bytes', tool('zstd', ['-d', '-q', '-c', f('ours.zst')]));
    add('read-bytes', await ours('read-bytes', f('ours.zst'), '', size));
    add('zstd -d snapshot', tool('zstd', ['-d', '-q', '-c', f('snapshot-buffer.zst')]));
    add('read-entries', await ours('read-entries', f('snapshot-buffer.zst'), '', size));
    add('read-entries-loop', await ours('read-entries-loop', f('snapshot-buffer.zst'), '', size));
  },
  random: (raw, f, size, add) => otherDataset('random', raw, f, size, add),
  mixed: (raw, f, size, add) => otherDataset('mixed', raw, f, size, add),
  /** ≈ 150-byte entries: the write side, fresh and in a big heap, and reading them back. */
  async small(raw, f, size, add) {
    add('zstd -1 -T1', tool('zstd', ['-1', '-T1', '-q', '-f', raw, '-o', f('tool.zst')]));
    add('bytes-zstd', await ours('bytes-zstd', raw, f('ours.zst'), size));
    add('bytes-zstd-fs', await ours('bytes-zstd-fs', raw, f('ours-fs.zst'), size));
    add('heap:bytes-zstd-fs', await ours('heap:bytes-zstd-fs', raw, f('ours-fs.zst'), size));
    if (bigHeapOption()) add('heapopt:bytes-zstd-fs', await ours('heapopt:bytes-zstd-fs', raw, f('ours-fs.zst'), size));
    add('lz4', tool('lz4', ['-1', '-q', '-f', raw, f('tool.lz4')]));
    add('bytes-lz4', await ours('bytes-lz4', raw, f('ours.lz4'), size));
    add('entries-small', await ours('entries-small', raw, f('snapshot.zst'), size));
    add('heap:entries-small', await ours('heap:entries-small', raw, f('snapshot.zst'), size));
    add('entries-small-string', await ours('entries-small-string', raw, f('snapshot-string.zst'), size));
    add('zstd -d snapshot', tool('zstd', ['-d', '-q', '-c', f('snapshot.zst')]));
    add('read-entries', await ours('read-entries', f('snapshot.zst'), '', size));
  },
};

/** The random and the mixed data sets: both byte paths both ways, and the snapshot recipes. */
async function otherDataset(name: 'random' | 'mixed', raw: string, f: (name: string) => string, size: number, add: (k: string, s: Sample) => void): Promise<void> {
  add('zstd -1 -T1', tool('zstd', ['-1', '-T1', '-q', '-f', raw, '-o', f('tool.zst')]));
  add('bytes-zstd', await ours('bytes-zstd', raw, f('ours.zst'), size));
  add('lz4', tool('lz4', ['-1', '-q', '-f', raw, f('tool.lz4')]));
  add('bytes-lz4', await ours('bytes-lz4', raw, f('ours.lz4'), size));
  add('zstd -d bytes', tool('zstd', ['-d', '-q', '-c', f('ours.zst')]));
  add('read-bytes', await ours('read-bytes', f('ours.zst'), '', size));
  add('lz4 -d bytes', tool('lz4', ['-d', '-q', '-c', f('ours.lz4')]));
  add('read-bytes-lz4', await ours('read-bytes', f('ours.lz4'), '', size));
  add(`entries-${name}`, await ours(`entries-${name}`, raw, f('snapshot.zst'), size));
  add('zstd -d snapshot', tool('zstd', ['-d', '-q', '-c', f('snapshot.zst')]));
  add('read-entries', await ours('read-entries', f('snapshot.zst'), '', size));
  add('read-entries-loop', await ours('read-entries-loop', f('snapshot.zst'), '', size));
}

function plan(name: Dataset, size: number): Plan {
  if (name === 'small') {
    return {
      title: `Small entries: ${sizeLabel(size)} of encoded entries of ≈ 150 bytes (a 17-byte key, 100–160 bytes of the sample text)`,
      rows: [
        { what: 'byte path zstd-1 (`compressFile`) vs `zstd -1 -T1`', ours: 'bytes-zstd', theirs: 'zstd -1 -T1', target: 1.5 },
        { what: 'the composable byte pipeline (fs streams around the stages) vs `zstd -1 -T1`', ours: 'bytes-zstd-fs', theirs: 'zstd -1 -T1', target: 1.6 },
        { what: 'entry path, Buffer entries (`writeSnapshot`) vs `zstd -1 -T1`', ours: 'entries-small', theirs: 'zstd -1 -T1', target: 1.4 },
        { what: 'entry path, string entries (`writeSnapshot`) vs `zstd -1 -T1`', ours: 'entries-small-string', theirs: 'zstd -1 -T1', target: 1.2 },
        ...bigHeapRows('bytes-zstd-fs', 'entries-small'),
        { what: 'lz4 byte path vs `lz4 -1`', ours: 'bytes-lz4', theirs: 'lz4', target: 1.3 },
        { what: '`readSnapshot` to entries (batches) vs `zstd -d`', ours: 'read-entries', theirs: 'zstd -d snapshot', target: 0.6 },
      ],
      rss: ['bytes-zstd', 'bytes-zstd-fs', 'bytes-lz4', 'entries-small', 'entries-small-string', 'read-entries'],
    };
  }
  if (name === 'sample') {
    return {
      title: `Data set: ${sizeLabel(size)} of encoded entries (\`sampleEntries\`)`,
      rows: [
        { what: 'byte path zstd-1 (`compressFile`: Compressor + CrcFooter → file) vs `zstd -1 -T1`', ours: 'bytes-zstd', theirs: 'zstd -1 -T1', target: 1.5 },
        { what: 'byte path zstd-1 vs `zstd -1 -T2`', ours: 'bytes-zstd', theirs: 'zstd -1 -T2', target: 0.9 },
        { what: 'the composable byte pipeline (`fs.createReadStream → createCompressor → createCrcFooter → fs.createWriteStream`) vs `zstd -1 -T1`', ours: 'bytes-zstd-fs', theirs: 'zstd -1 -T1', target: 1.6 },
        { what: 'entry path, Buffer entries (`writeSnapshot`) vs `zstd -1 -T1`', ours: 'entries-buffer', theirs: 'zstd -1 -T1', target: 1.4 },
        { what: 'entry path, string entries (`writeSnapshot`) vs `zstd -1 -T1`', ours: 'entries-string', theirs: 'zstd -1 -T1', target: 1.2 },
        { what: 'the same with 256 KiB reads vs `zstd -1 -T1`', ours: 'bytes-zstd-fs-256k', theirs: 'zstd -1 -T1' },
        ...bigHeapRows('bytes-zstd-fs', 'entries-buffer'),
        { what: 'lz4 byte path vs `lz4 -1`', ours: 'bytes-lz4', theirs: 'lz4', target: 1.3 },
        { what: 'read + verify bytes (CrcVerifier + Decompressor) vs `zstd -d`', ours: 'read-bytes', theirs: 'zstd -d bytes', target: 1.5 },
        { what: '`readSnapshot` to entries, batch mode, vs `zstd -d`', ours: 'read-entries', theirs: 'zstd -d snapshot', target: 0.6 },
        { what: "`readSnapshot`, the README's loop `for await (const e of readSnapshot(f))`, vs `zstd -d`", ours: 'read-entries-loop', theirs: 'zstd -d snapshot', target: 0.4 },
      ],
      rss: ['bytes-zstd', 'bytes-lz4', 'bytes-zstd-fs', 'bytes-zstd-fs-256k', 'entries-buffer', 'entries-string', 'read-bytes', 'read-entries', 'read-entries-loop'],
    };
  }
  // Random data: the targets (issue 15). Mixed data: at least the compressible set's.
  const random = name === 'random';
  return {
    title: random
      ? `Random data set: ${sizeLabel(size)} of encoded entries with 16 KiB values of random bytes (does not compress)`
      : `Mixed data set: ${sizeLabel(size)} of the sample entries, each value half random bytes, half text`,
    rows: [
      { what: 'byte path zstd-1 (`compressFile`) vs `zstd -1 -T1`', ours: 'bytes-zstd', theirs: 'zstd -1 -T1', target: random ? 1.0 : 1.5 },
      { what: 'lz4 byte path vs `lz4 -1`', ours: 'bytes-lz4', theirs: 'lz4', target: random ? 1.0 : 1.3 },
      { what: 'read + verify bytes zstd (CrcVerifier + Decompressor) vs `zstd -d`', ours: 'read-bytes', theirs: 'zstd -d bytes', target: random ? 0.7 : 1.5 },
      { what: 'read + verify bytes lz4 vs `lz4 -d`', ours: 'read-bytes-lz4', theirs: 'lz4 -d bytes', target: 0.7 },
      { what: 'entry path (`writeSnapshot`) vs `zstd -1 -T1`', ours: `entries-${name}`, theirs: 'zstd -1 -T1', ...(random ? {} : { target: 1.2 }) },
      { what: '`readSnapshot` to entries, batch mode, vs `zstd -d`', ours: 'read-entries', theirs: 'zstd -d snapshot', target: 0.6 },
      { what: "`readSnapshot`, the README's loop, vs `zstd -d`", ours: 'read-entries-loop', theirs: 'zstd -d snapshot', target: 0.4 },
    ],
    rss: ['bytes-zstd', 'bytes-lz4', `entries-${name}`, 'read-bytes', 'read-bytes-lz4', 'read-entries', 'read-entries-loop'],
  };
}

/**
 * Peak RSS must not grow with the data: a run of another size than 1 GiB compares each case's
 * peak with the 1 GiB table in docs/BENCHMARKS.md (written by `--size 1g --update-docs`) and
 * fails when one is more than 10% above it.
 */
function rssAgainst1GiB(size: number, peaks: Map<string, number>): { lines: string[]; failed: boolean } {
  if (size === 1024 ** 3) return { lines: [], failed: false };
  const doc = path.join(here, '..', '..', 'docs', 'BENCHMARKS.md');
  const block = fs.existsSync(doc) ? /<!-- bench:1GiB:start -->([\s\S]*?)<!-- bench:1GiB:end -->/.exec(fs.readFileSync(doc, 'utf8')) : null;
  if (!block) return { lines: ['', 'Peak RSS against 1 GiB: no 1 GiB table in docs/BENCHMARKS.md to compare with.'], failed: false };
  // The sample set's table: from its title to its compression-ratio line.
  const sample = block[1]!.slice(Math.max(0, block[1]!.indexOf('Data set:')));
  const table = sample.slice(0, sample.indexOf('Compression ratio') >>> 0);
  const base = new Map([...table.matchAll(/^\| ([a-z0-9-]+)(?: \(composed by hand\))? \| (\d+) MB \|/gm)].map((m) => [m[1]!, Number(m[2])]));
  const lines = ['', `| snapstream case | peak RSS, 1 GiB | peak RSS, ${sizeLabel(size)} | change | limit | |`, '|---|---|---|---|---|---|'];
  let failed = false;
  for (const [k, peak] of peaks) {
    const was = base.get(k);
    if (was === undefined) continue;
    const change = (peak - was) / was;
    const shown = `| ${k} | ${was} MB | ${peak.toFixed(0)} MB | ${change >= 0 ? '+' : ''}${(change * 100).toFixed(1)}%`;
    // The stages composed by hand are shown for comparison: their peak follows the collector.
    if (k.startsWith('bytes-zstd-fs')) {
      lines.push(`${shown} | — | for comparison |`);
      continue;
    }
    const ok = change <= 0.1;
    if (!ok) failed = true;
    lines.push(`${shown} | +10% | ${ok ? 'ok' : 'MISSED'} |`);
  }
  return { lines, failed };
}

/** The version of the Node binary running the snapstream cases. */
function nodeVersion(node: string): string {
  return node === process.execPath ? process.version : spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  nodeBinary = o.node;
  fs.mkdirSync(o.dir, { recursive: true });
  const sets: { name: Dataset; raw: string; size: number; f: (name: string) => string; samples: Map<string, Sample[]> }[] = [];
  for (const name of o.data) {
    const raw = await ensureRawDataset(o.dir, name, o.size);
    // Each data set's outputs in a directory of its own (the sample set's where they always were).
    const dir = name === 'sample' ? o.dir : path.join(o.dir, name);
    fs.mkdirSync(dir, { recursive: true });
    sets.push({ name, raw, size: fs.statSync(raw).size, f: (file) => path.join(dir, file), samples: new Map() });
  }

  // Runs alternate between the data sets too, so a slow spell of the machine hits them alike.
  for (let run = 0; run < o.runs; run++) {
    for (const set of sets) {
      process.stderr.write(`run ${run + 1}/${o.runs}: ${set.name}\n`);
      const add = (k: string, s: Sample): void => void set.samples.set(k, [...(set.samples.get(k) ?? []), s]);
      await runners[set.name](set.raw, set.f, set.size, add);
    }
  }

  const date = new Date().toISOString().slice(0, 10);
  const lines: string[] = [];
  const chartRows: { label: string; ours: number; theirs: number; target?: number }[] = [];
  let failed = 0;
  for (const { name, size, f, samples } of sets) {
    const sec = (k: string): number => median(samples.get(k)!.map((s) => s.seconds));
    const rate = (k: string): number => size / 1e6 / sec(k);
    const rss = (k: string): number => Math.max(...samples.get(k)!.map((s) => s.maxRssMB ?? 0));
    const mbs = (k: string): string => `${rate(k).toFixed(0)} MB/s`;
    const { title, rows, rss: rssCases } = plan(name, size);
    if (lines.length > 0) lines.push('');
    lines.push(
      `${title}, median of ${o.runs} runs, ${os.cpus().length} cores, Node ${nodeVersion(o.node)}, ${date}.`,
      '',
      '| measure | snapstream | stock tool | ratio | target | |',
      '|---|---|---|---|---|---|',
    );
    for (const r of rows) {
      const ratio = rate(r.ours) / rate(r.theirs);
      chartRows.push({ label: name === 'sample' ? r.what : `${name}: ${r.what}`, ours: rate(r.ours), theirs: rate(r.theirs), ...(r.target !== undefined ? { target: r.target } : {}) });
      if (r.target === undefined) {
        lines.push(`| ${r.what} | ${mbs(r.ours)} | ${mbs(r.theirs)} | ${ratio.toFixed(2)}× | — | for comparison |`);
        continue;
      }
      const ok = ratio >= r.target;
      if (!ok) failed++;
      lines.push(`| ${r.what} | ${mbs(r.ours)} | ${mbs(r.theirs)} | ${ratio.toFixed(2)}× | ≥ ${r.target}× | ${ok ? 'ok' : 'MISSED'} |`);
    }
    lines.push('', '| snapstream case | peak RSS | target | |', '|---|---|---|---|');
    for (const k of rssCases) {
      if (k === 'bytes-zstd-fs' || k === 'bytes-zstd-fs-256k') {
        lines.push(`| ${k} (composed by hand) | ${rss(k).toFixed(0)} MB | — | for comparison |`);
        continue;
      }
      const ok = rss(k) <= 160;
      if (!ok) failed++;
      lines.push(`| ${k} | ${rss(k).toFixed(0)} MB | ≤ 160 MB | ${ok ? 'ok' : 'MISSED'} |`);
    }
    if (name === 'sample') {
      const spread = rssAgainst1GiB(size, new Map(rssCases.map((k) => [k, rss(k)])));
      if (spread.failed) failed++;
      lines.push(...spread.lines);
    }
    const ratio = (file: string): string => `${(size / fs.statSync(f(file)).size).toFixed(2)}×`;
    lines.push('', `Compression ratio: zstd -1 ${ratio('tool.zst')}, snapstream zstd-1 ${ratio('ours.zst')}; lz4 -1 ${ratio('tool.lz4')}, snapstream lz4 ${ratio('ours.lz4')}.`);
  }
  const table = lines.join('\n');
  process.stdout.write(`${table}\n`);
  const size = sets[0]!.size;

  if (o.updateDocs) {
    const docs = path.join(here, '..', '..', 'docs');
    const doc = path.join(docs, 'BENCHMARKS.md');
    // A run with the sample set writes the size's block (a `--data sample` run at 4 GiB too); a run
    // of other data sets only keeps a block of its own.
    const some = o.data.includes('sample') ? '' : `-${o.data.join('-')}`;
    const key = `${sizeLabel(size).replace(/\s+/g, '')}${some}`;
    // The chart beside the doc, named like the markers, so each size keeps its own.
    const chart = `benchmarks-${key}.svg`;
    fs.writeFileSync(
      path.join(docs, chart),
      throughputChart(
        chartRows,
        `Throughput on ${sizeLabel(size)} of entries, ${date}`,
        `MB/s, higher is better; median of ${o.runs} runs, ${os.cpus().length} cores, Node ${nodeVersion(o.node)}`,
      ),
    );
    const start = `<!-- bench:${key}:start -->`;
    const end = `<!-- bench:${key}:end -->`;
    let text = fs.existsSync(doc) ? fs.readFileSync(doc, 'utf8') : '# Benchmarks\n';
    const block = `${start}\n![throughput chart](${chart})\n\n${table}\n${end}`;
    text = text.includes(start) ? text.replace(new RegExp(`${start}[\\s\\S]*?${end}`), block) : `${text}\n${block}\n`;
    fs.writeFileSync(doc, text);
    process.stderr.write(`updated ${doc}\n`);
  }
  process.exitCode = failed > 0 ? 1 : 0;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
