/**
 * `npm run bench:cdc [-- --size 256m --runs 3 --data sample,random,mixed --update-docs]`
 *
 * What content-defined block boundaries and frame digests cost a snapshot write
 * (docs/FORMAT.md 3.5, 3.10): writeSnapshot (zstd level 1, 1 MiB blocks) of each bench data set
 * (bench/datasets.ts) in three layouts, each run in a fresh process, the layouts alternated run
 * after run so they share the machine's noise, medians reported:
 *
 * - `fixed`: fixed blocks, no digests (the layout before);
 * - `fixed+digest`: fixed blocks with frame digests (what the digest alone costs);
 * - `content+digest`: content-defined blocks with frame digests (the default now).
 *
 * Wall time, CPU time of the process (all threads), compression ratio and block count.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSnapshot } from 'snapstream';
// Internals, not exported by the package: the built files beside bench/dist (types from their declarations).
const { recycleBlock } = (await import(new URL('../../dist/format/block-buffers.js', import.meta.url).href)) as typeof import('../dist/format/block-buffers.js');
const { keyHash } = (await import(new URL('../../dist/format/content-boundaries.js', import.meta.url).href)) as typeof import('../dist/format/content-boundaries.js');
const { EntryBlockWriter } = (await import(new URL('../../dist/format/entry-record.js', import.meta.url).href)) as typeof import('../dist/format/entry-record.js');
import { datasetEntries, DATASETS, type Dataset } from './datasets.js';
import { parseSize } from './bench-args.js';

const LAYOUTS = {
  fixed: { boundaries: 'fixed', digests: false },
  'fixed+digest': { boundaries: 'fixed', digests: true },
  'content+digest': { boundaries: 'content', digests: true },
} as const;
type Layout = keyof typeof LAYOUTS;

interface Sample {
  ms: number;
  cpuMs: number;
  raw: number;
  bytes: number;
  blocks: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));

async function child(data: Dataset, layout: Layout, size: number, out: string): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const s = await writeSnapshot(datasetEntries(data, size), out, { codec: 'zstd', level: 1, ...LAYOUTS[layout] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  const sample: Sample = { ms, cpuMs: (cpu.user + cpu.system) / 1000, raw: s.rawBytes, bytes: s.bytes, blocks: s.blocks };
  fs.rmSync(out, { force: true });
  process.stdout.write(JSON.stringify(sample));
}


const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * The encoder alone (EntryBlockWriter, the loop EntrySource runs: entries → blocks, each block's
 * memory recycled as writeSnapshot's pipeline does, nothing compressed), for an instruction count
 * that does not depend on the machine's load:
 * `valgrind --tool=callgrind --callgrind-out-file=/dev/null node --no-concurrent-recompilation bench/dist/cdc.js --encode sample content 64m`.
 */
function encodeOnly(data: Dataset, boundaries: 'content' | 'fixed', size: number): void {
  const writer = new EntryBlockWriter(1024 * 1024, true, boundaries);
  let blocks = 0;
  let raw = 0;
  const take = (): void => {
    const block = writer.take();
    blocks++;
    raw += block.length;
    recycleBlock(block.buffer);
  };
  const t0 = process.hrtime.bigint();
  for (const entry of datasetEntries(data, size)) {
    if (!writer.append(entry)) {
      take();
      writer.append(entry);
    }
    if (writer.boundary) take();
  }
  if (writer.count > 0) take();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stdout.write(`${JSON.stringify({ data, boundaries, blocks, raw, ms })}\n`);
}

/** CPU time of keyHash per call for keys of a few lengths, against an empty call: `node bench/dist/cdc.js --hash`. */
function hashOnly(): void {
  const buf = Buffer.from(new SharedArrayBuffer(1 << 16)); // as in writeSnapshot's blocks
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 31) & 0xff;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const calls = 1e7;
  const time = (f: (v: DataView, a: number, e: number) => number, length: number): number => {
    const c0 = process.cpuUsage();
    let x = 0;
    for (let i = 0; i < calls; i++) {
      const a = (i * 97) & 0x7ff0;
      x = (x + f(view, a, a + length)) | 0;
    }
    const c = process.cpuUsage(c0);
    if (x === 0.5) process.stdout.write(''); // keep x alive
    return ((c.user + c.system) * 1000) / calls;
  };
  const empty = (_v: DataView, a: number): number => a;
  for (let round = 0; round < 3; round++) {
    for (const length of [8, 17, 40]) {
      const ns = time(keyHash, length) - time(empty, length);
      if (round === 2) process.stdout.write(`keyHash, ${length}-byte key: ${ns.toFixed(1)} ns CPU per call\n`);
    }
  }
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--hash') return hashOnly();
  if (argv[0] === '--child') return child(argv[1] as Dataset, argv[2] as Layout, Number(argv[3]), argv[4]!);
  if (argv[0] === '--encode') return void encodeOnly(argv[1] as Dataset, argv[2] as 'content' | 'fixed', parseSize(argv[3]!));
  let size = 256 * 1024 ** 2;
  let runs = 3;
  let data: Dataset[] = [...DATASETS];
  let updateDocs = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--size') size = parseSize(argv[++i]!);
    else if (a === '--runs') runs = Number(argv[++i]);
    else if (a === '--data') data = argv[++i]!.split(',') as Dataset[];
    else if (a === '--update-docs') updateDocs = true;
    else throw new Error(`unknown option ${a}`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapstream-bench-cdc-'));
  const rows: string[] = [];
  const sizeLabel = `${+(size / 1024 ** 2).toFixed(1)} MiB`;
  try {
    for (const d of data) {
      const samples: Record<Layout, Sample[]> = { fixed: [], 'fixed+digest': [], 'content+digest': [] };
      for (let r = 0; r < runs; r++) {
        // Alternate the order too, so no layout always runs first.
        const order = (Object.keys(LAYOUTS) as Layout[]).slice();
        if (r % 2) order.reverse();
        for (const layout of order) {
          const res = spawnSync(process.execPath, [path.join(here, 'cdc.js'), '--child', d, layout, String(size), path.join(dir, 'out.snap')], {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          if (res.status !== 0) throw new Error(`child ${d} ${layout} failed`);
          samples[layout].push(JSON.parse(res.stdout) as Sample);
        }
        process.stderr.write(`${d}: run ${r + 1}/${runs}\n`);
      }
      const base = samples.fixed;
      const baseMs = median(base.map((s) => s.ms));
      const baseCpu = median(base.map((s) => s.cpuMs));
      const baseRatio = base[0]!.raw / base[0]!.bytes;
      for (const layout of Object.keys(LAYOUTS) as Layout[]) {
        const s = samples[layout];
        const ms = median(s.map((x) => x.ms));
        const cpu = median(s.map((x) => x.cpuMs));
        const ratio = s[0]!.raw / s[0]!.bytes;
        const mbps = s[0]!.raw / 1e6 / (ms / 1000);
        const rel = (x: number, b: number): string => (layout === 'fixed' ? '' : ` (${x >= b ? '+' : ''}${(((x - b) / b) * 100).toFixed(1)}%)`);
        rows.push(
          `| ${d} | ${layout} | ${mbps.toFixed(0)} MB/s${rel(ms, baseMs).replace('(', '(time ')} | ${cpu.toFixed(0)} ms${rel(cpu, baseCpu)} | ${ratio.toFixed(3)}×${rel(ratio, baseRatio)} | ${s[0]!.blocks} |`,
        );
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const table = [
    `writeSnapshot, zstd level 1, \`blockSize\` 1 MiB, ${sizeLabel} of encoded entries per data set, median of ${runs} runs per layout (each a fresh process, layouts alternated), ${os.cpus().length} cores, Node ${process.version}:`,
    '',
    '| data | layout | write speed (wall time vs fixed) | CPU time, all threads | ratio | blocks |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  process.stdout.write(`${table}\n`);
  if (updateDocs) {
    const doc = path.resolve(here, '../../docs/BENCHMARKS.md');
    const text = fs.readFileSync(doc, 'utf8');
    const begin = '<!-- bench:cdc begin -->';
    const end = '<!-- bench:cdc end -->';
    const a = text.indexOf(begin);
    const b = text.indexOf(end);
    if (a < 0 || b < 0) throw new Error(`docs/BENCHMARKS.md has no ${begin} … ${end} section`);
    fs.writeFileSync(doc, `${text.slice(0, a + begin.length)}\n${table}\n${text.slice(b)}`);
  }
}

await main(process.argv.slice(2));
