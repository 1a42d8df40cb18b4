/**
 * Delta transfer against a full one, side by side in one run (docs/BENCHMARKS.md, "Delta
 * transfer"). Yesterday's snapshot of N entries (about `--size` of file) is installed on the
 * receiver; today's is sent to it, full (`delta: false`) and as a delta, over loopback TCP, with
 * sender and receiver in processes of their own:
 *
 * - `range`: 1% of the entries updated in one key range (their values change length too), 0.5%
 *   appended;
 * - `uniform`: 0.1% of the entries updated, spread uniformly over the key space.
 *
 * Bytes on the wire are all bytes both ways (data, metadata frames, messages). Loopback moves
 * about as fast as the disk writes, so a delta, which still writes and fsyncs the whole file on
 * the receiver, saves bytes far more than time there; `--rate` also runs both over a link of
 * that many bytes per second (the sender's rate limit).
 *
 *   npm run bench:delta -- --size 1g [--rate 125000000,50000000] [--runs 3] [--update-docs]
 *
 * Each delta is printed beside the disk's floor, measured just before it (today's file copied
 * on the receiver's disk in the kernel and fsync'd); `--runs N` runs N deltas per link, the links
 * alternating, and shows the median; `--sync-every BYTES` sets the receiver's syncEvery.
 *
 * Before/after CPU figures of two builds (a checkout with `dist/` and `bench/dist/` built), the
 * delta of each run with the peers of both, alternating, each peer's CPU seconds (user + system,
 * every thread, from its start: Node's own start included) printed beside its wall time:
 *
 *   npm run bench:delta -- --size 256m --cases range --base /tmp/base7 --runs 3 [--rate 125000000] [--full]
 *
 * (`--full`: full transfers of both builds too, alternating, beside the deltas.)
 *
 * `--dir DIR`: where the data sets and the receiver's directory live (default: the temp dir).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspectSnapshot, writeSnapshot, type Entry } from 'snapstream';
import { randomBytes } from './datasets.js';
import { option, parseSize } from './bench-args.js';
import { waitLine } from './child-lines.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => option(args, name, fallback);
const sizeText = opt('--size', '1g');
const fileSize = parseSize(sizeText);
// Links to run both over besides loopback, in bytes per second (a comma-separated list).
const rates = opt('--rate', '0').split(',').map(Number).filter((r) => r > 0);
const dir = opt('--dir', path.join(os.tmpdir(), 'snapstream-delta-bench'));
// Which cases run (range, uniform); `--base DIR`: the peers of another build too, alternating.
const caseNames = opt('--cases', 'range,uniform').split(',');
const baseBuild = args.includes('--base') ? path.resolve(opt('--base', '')) : null;
const runCount = Number(opt('--runs', baseBuild ? '3' : '1'));
// `--sync-every BYTES`: the receiver's syncEvery (its checkpoints' spacing; default the library's).
const syncEvery = args.includes('--sync-every') ? parseSize(opt('--sync-every', '0')) : 0;
fs.mkdirSync(dir, { recursive: true });

// Values: 200 bytes (208 once updated) from a pool that is half random bytes, half text, so the
// file compresses about 1.6:1 and is about `fileSize` long.
const POOL = 32 * 1024 * 1024;
const pool = (() => {
  const random = randomBytes(POOL / 2);
  const out = Buffer.alloc(POOL);
  const text = Buffer.from('{"name":"entry","active":true,"tags":["alpha","beta"],"score":1234}', 'latin1');
  for (let at = 0, r = 0; at < POOL; at += 128, r += 64) {
    random.copy(out, at, r % random.length, (r % random.length) + 64);
    for (let j = 64; j < 128; j++) out[at + j] = text[j % text.length]!;
  }
  return out;
})();
const ENTRY_BYTES = 9 + 13 + 200; // record overhead + key + value
const COMPRESSED = 0.51; // file bytes per raw byte (measured)
const N = Math.round(fileSize / COMPRESSED / ENTRY_BYTES);

type Version = (i: number) => number;
function* entries(count: number, version: Version): Generator<Entry> {
  for (let i = 0; i < count; i++) {
    const v = version(i);
    const length = v === 0 ? 200 : 208;
    const at = ((i * 2654435761 + v * 40503) >>> 0) % (POOL - 256);
    yield { key: `k${String(i).padStart(12, '0')}`, value: pool.subarray(at, at + length) };
  }
}

const hash = (i: number): number => (Math.imul(i ^ 0x9e3779b9, 0x85ebca6b) >>> 0) ^ (i >>> 13);
const CASES = {
  range: { count: Math.round(N * 1.005), version: (i: number) => (i >= N * 0.4 && i < N * 0.41 ? 1 : 0), what: '1% updated in one key range, 0.5% appended' },
  uniform: { count: N, version: (i: number) => (hash(i) % 1000 === 0 ? 1 : 0), what: '0.1% updated, uniformly' },
} as const;

// Yesterday's and today's snapshots differ in their creation time, as real ones do.
async function ensure(file: string, count: number, version: Version, createdAt: number): Promise<void> {
  if (fs.existsSync(file)) return;
  await writeSnapshot(entries(count, version), `${file}.tmp`, { createdAt });
  fs.renameSync(`${file}.tmp`, file);
}


interface Run {
  seconds: number;
  wireBytes: number;
  sentBytes: number;
  copiedBytes: number;
  maxRssMB: number;
  /** The sender's CPU seconds (user + system, every thread, Node's start included). */
  cpuSeconds: number;
  /** The receiver's, likewise (its whole process: start, listen, the transfer). */
  receiverCpuSeconds: number;
  /** Of those, the receiver's seconds in the kernel (system time). */
  receiverSystemSeconds: number;
}

/** The lines a child prints on its stdout, one at a time. */
function lineReader(child: ChildProcess): () => Promise<string> {
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let text = '';
  child.stdout!.on('data', (d: Buffer) => {
    text += d;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
      const line = text.slice(0, nl);
      text = text.slice(nl + 1);
      const w = waiting.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  child.on('exit', (code) => {
    if (code !== 0) for (const w of waiting.splice(0)) w(`exit ${code}`);
  });
  return () => (lines.length > 0 ? Promise.resolve(lines.shift()!) : new Promise((resolve) => waiting.push(resolve)));
}

/** Today's file sent to a receiver holding yesterday's, by the peers of `build` (its bench/dist). */
async function transfer(today: string, yesterday: string, delta: boolean, limit: number, build: string = here): Promise<Run> {
  const recv = path.join(dir, 'received');
  fs.rmSync(recv, { recursive: true, force: true });
  fs.mkdirSync(recv);
  const base = path.join(recv, 'bench');
  fs.copyFileSync(yesterday, base);
  // Yesterday's snapshot has long been on disk: flushed here, its copy would otherwise be
  // written back while the transfer is timed, sharing the disk with the file being received.
  // `sync` also settles what the removal of the last run's files left to do (this disk is
  // mounted with `discard`: the freed blocks are trimmed at the next journal commit, which
  // the transfer's first fsync would otherwise wait for).
  settleDisk(base);
  const flag = delta ? [] : ['--no-delta'];
  const peer = path.join(build, 'transfer-peer.js');
  const env = syncEvery ? { ...process.env, SYNC_EVERY: String(syncEvery) } : process.env;
  const server = spawn(process.execPath, [peer, 'serve', recv, ...flag], { stdio: ['ignore', 'pipe', 'inherit'], env });
  const serverLine = lineReader(server);
  const port = Number(await serverLine());
  const client = spawn(process.execPath, [peer, 'send', today, String(port), ...flag, ...(limit ? ['--rate', String(limit)] : [])], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const result = JSON.parse(await waitLine(client)) as Run;
  server.kill('SIGTERM');
  const serverOut = JSON.parse(await serverLine()) as { cpuSeconds: number; userSeconds: number };
  await new Promise((resolve) => (server.exitCode !== null ? resolve(null) : server.once('exit', resolve)));
  if (!fs.readFileSync(path.join(recv, 'bench')).equals(fs.readFileSync(today))) throw new Error('the received file differs');
  return { ...result, receiverCpuSeconds: serverOut.cpuSeconds, receiverSystemSeconds: serverOut.cpuSeconds - serverOut.userSeconds };
}

/**
 * Seconds to write `file` anew on the receiver's disk and fsync it (a copy in the kernel, from the
 * page cache, then one fsync): the least any transfer that installs the file durably can take
 * on this disk, whatever it sends.
 */
function diskFloor(file: string): number {
  const copy = path.join(dir, 'disk-floor');
  fs.rmSync(copy, { force: true });
  execFileSync('sync');
  const start = performance.now();
  fs.copyFileSync(file, copy);
  const fd = fs.openSync(copy, 'r');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  const seconds = (performance.now() - start) / 1000;
  fs.rmSync(copy);
  execFileSync('sync');
  return seconds;
}

/** fsyncs `file`, then flushes every file system (`sync`): nothing left over is written back during a timed run. */
function settleDisk(file: string): void {
  const fd = fs.openSync(file, 'r');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  execFileSync('sync');
}

/**
 * The longest byte range of `today` found whole in `base` (docs/S3.md: UploadPartCopy copies
 * byte ranges of ≥ 5 MiB): consecutive data frames shared with the base, with the block headers
 * between them identical too (same offsets, prefix CRCs, totals, cursors).
 */
async function longestSharedRun(today: string, base: string): Promise<number> {
  const a = (await inspectSnapshot(today)).blocks;
  const b = (await inspectSnapshot(base)).blocks;
  const at = new Map(b.map((block, i) => [block.digest?.toString('hex'), i]));
  const same = (x: (typeof a)[number], y: (typeof b)[number]): boolean =>
    x.offset === y.offset && x.prefixCrc === y.prefixCrc && x.entriesTotal === y.entriesTotal && x.rawTotal === y.rawTotal && JSON.stringify(x.cursor) === JSON.stringify(y.cursor);
  let longest = 0;
  for (let k = 0; k < a.length; k++) {
    const j = at.get(a[k]!.digest?.toString('hex'));
    if (j === undefined) continue;
    let run = a[k]!.frameLength;
    for (let n = 1; k + n < a.length && j + n < b.length && a[k + n]!.digest?.equals(b[j + n]!.digest ?? Buffer.alloc(0)) && same(a[k + n]!, b[j + n]!); n++) {
      run += a[k + n]!.offset - (a[k + n - 1]!.offset + 0) - a[k + n - 1]!.frameLength + a[k + n]!.frameLength;
    }
    longest = Math.max(longest, run);
  }
  return longest;
}

const yesterday = path.join(dir, `yesterday-${sizeText}.snap`);
await ensure(yesterday, N, () => 0, Date.UTC(2026, 11, 6));
const blocks = (await inspectSnapshot(yesterday)).blocks.length;
const runs: string[] = [];
const rows: string[] = [];
const checks: boolean[] = [];
const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;
const pct = (a: number, b: number): string => `${((100 * a) / b).toFixed(2)}%`;
const cpu = (r: Run): string => `${r.cpuSeconds.toFixed(2)} / ${r.receiverCpuSeconds.toFixed(2)} s (kernel ${r.receiverSystemSeconds.toFixed(2)})`;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cases = Object.entries(CASES).filter(([name]) => caseNames.includes(name));
if (baseBuild) {
  // Before/after: the delta with the peers of each build, alternating (which goes first too),
  // and one full transfer (this build) per link for the ratio.
  const builds: [string, string][] = [
    ['base', path.join(baseBuild, 'bench', 'dist')],
    ['this build', here],
  ];
  const out: string[] = [];
  const kinds = args.includes('--full') ? ['delta', 'full'] : ['delta'];
  for (const [name, c] of cases) {
    const today = path.join(dir, `today-${name}-${sizeText}.snap`);
    await ensure(today, c.count, c.version, Date.UTC(2026, 11, 7));
    out.push(`| ${name} | — | disk floor | | ${diskFloor(today).toFixed(2)} s (today's file copied in the kernel and fsync'd) | | | |`);
    for (const limit of [0, ...rates]) {
      const link = limit ? `${(limit / 1e6).toFixed(0)} MB/s link` : 'loopback';
      const full = await transfer(today, yesterday, false, limit);
      for (const kind of kinds) {
        const got = new Map<string, Run[]>(builds.map(([b]) => [b, []]));
        for (let r = 0; r < runCount; r++) {
          for (const [b, build] of r % 2 === 0 ? builds : [...builds].reverse()) {
            const run = await transfer(today, yesterday, kind === 'delta', limit, build);
            got.get(b)!.push(run);
            process.stderr.write(`${name} ${link} ${kind} ${b}: ${run.seconds.toFixed(2)} s, CPU sender / receiver ${cpu(run)}\n`);
          }
        }
        for (const [b] of builds) {
          const xs = got.get(b)!;
          const m = (k: 'seconds' | 'cpuSeconds' | 'receiverCpuSeconds' | 'receiverSystemSeconds'): number => median(xs.map((x) => x[k]));
          out.push(
            `| ${name} | ${link} | ${b} | ${kind} | ${m('seconds').toFixed(2)} s (${pct(m('seconds'), full.seconds)} of full ${full.seconds.toFixed(2)} s) | ${m('cpuSeconds').toFixed(2)} s | ${m('receiverCpuSeconds').toFixed(2)} s (kernel ${m('receiverSystemSeconds').toFixed(2)}) | ${xs.map((x) => `${x.seconds.toFixed(2)}/${x.cpuSeconds.toFixed(2)}/${x.receiverCpuSeconds.toFixed(2)}/${x.receiverSystemSeconds.toFixed(2)}`).join(', ')} |`,
          );
        }
      }
    }
  }
  process.stdout.write(
    [
      `Delta transfer of a ${sizeText} entry snapshot, ${runCount} alternating runs per build, medians; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} at the end.`,
      'Wall time from the sender\'s call to DONE; CPU seconds (user + system, every thread) of each peer process, Node\'s start included.',
      '',
      '| case | link | build | transfer | wall time | sender CPU | receiver CPU (its kernel time) | runs (wall / sender CPU / receiver CPU / its kernel) |',
      '|---|---|---|---|---|---|---|---|',
      ...out,
    ].join('\n') + '\n',
  );
  process.exit(0);
}
const links = [0, ...rates];
const linkName = (limit: number): string => (limit ? `${(limit / 1e6).toFixed(0)} MB/s link` : 'loopback');
for (const [name, c] of cases) {
  const today = path.join(dir, `today-${name}-${sizeText}.snap`);
  await ensure(today, c.count, c.version, Date.UTC(2026, 11, 7));
  const size = fs.statSync(today).size;
  runs.push(`${name} ${(await longestSharedRun(today, yesterday) / 2 ** 20).toFixed(2)} MiB`);
  // A full transfer per link (its time is the link's), then the deltas: with --runs N, N per
  // link, the links alternating run after run. Each delta beside the disk's floor measured just
  // before it: the disk of this VM moves by 2x within an hour, and a delta can only be read
  // against the disk it ran on.
  const fulls = new Map<number, Run>();
  for (const limit of links) fulls.set(limit, await transfer(today, yesterday, false, limit));
  const deltas = new Map<number, { run: Run; floor: number }[]>(links.map((l) => [l, []]));
  for (let r = 0; r < runCount; r++) {
    for (const limit of r % 2 === 0 ? links : [...links].reverse()) {
      const floor = diskFloor(today);
      const run = await transfer(today, yesterday, true, limit);
      deltas.get(limit)!.push({ run, floor });
      process.stderr.write(`${name} ${linkName(limit)} delta ${run.seconds.toFixed(2)} s, disk floor ${floor.toFixed(2)} s, CPU sender / receiver ${cpu(run)}\n`);
    }
  }
  for (const limit of links) {
    const full = fulls.get(limit)!;
    const xs = [...deltas.get(limit)!].sort((a, b) => a.run.seconds - b.run.seconds);
    const { run: delta, floor } = xs[Math.floor(xs.length / 2)]!;
    const each = xs.length > 1 ? ` (runs: ${deltas.get(limit)!.map((x) => `${x.run.seconds.toFixed(2)}/${x.floor.toFixed(2)}`).join(', ')})` : '';
    rows.push(
      `| ${name}: ${c.what} | ${linkName(limit)} | ${mb(size)} | ${mb(full.wireBytes)}, ${full.seconds.toFixed(2)} s | ${mb(delta.wireBytes)} (${pct(delta.wireBytes, size)}), ${delta.seconds.toFixed(2)} s (${pct(delta.seconds, full.seconds)}) | ${floor.toFixed(2)} s, ${(delta.seconds / floor).toFixed(2)}×${each} | ${mb(delta.copiedBytes)} | ${cpu(delta)} | sender ${delta.maxRssMB.toFixed(0)} MB |`,
    );
    if (name === 'range') checks.push(delta.wireBytes <= size * 0.03);
    process.stderr.write(`${rows.at(-1)}\n`);
  }
}
const table =
  [
    `Delta transfer of a ${sizeText} entry snapshot (${N.toLocaleString('en')} entries of 222 bytes, ${blocks} blocks), today's file to a receiver holding yesterday's, over loopback TCP; a full transfer per link, then ${runCount === 1 ? 'one delta' : `${runCount} deltas per link (the links alternating; the median shown)`}, each beside the disk's floor measured just before it${syncEvery ? `; receiver syncEvery ${syncEvery} bytes` : ''}:`,
    '',
    '| today = yesterday with | link | file | full: on the wire, time | delta: on the wire, time (of full) | disk floor, delta / floor | copied from the base | delta CPU: sender / receiver (its kernel time) | peak RSS |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    "Targets (range case): on the wire ≤ 3% of the file (checked: the script exits 1 if not), time ≤ 15% of a full transfer. CPU: user + system seconds of each peer's process (every thread, Node's start included).",
    '',
    "Disk floor: today's file copied on the receiver's disk in the kernel and fsync'd, just before the delta beside it: the least any transfer that installs the file durably can take on the disk as it was then.",
    '',
    `Longest byte range of today's file found whole in yesterday's (what S3 UploadPartCopy could copy; it needs ≥ 5 MiB): ${runs.join(', ')}.`,
  ].join('\n') + '\n';
process.stdout.write(table);
if (args.includes('--update-docs')) {
  const doc = path.join(here, '..', '..', 'docs', 'BENCHMARKS.md');
  const text = fs.readFileSync(doc, 'utf8');
  fs.writeFileSync(doc, text.replace(/<!-- delta:start -->[\s\S]*?<!-- delta:end -->/, `<!-- delta:start -->\n${table}<!-- delta:end -->`));
}
process.exitCode = checks.every(Boolean) ? 0 : 1;
