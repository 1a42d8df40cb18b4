/**
 * What a point-in-time view of a live Map costs (mapSource): for each size, in a fresh process
 * started as a database or cache process is, `node --max-old-space-size=4096` (the worker threads
 * take the process's options less those they refuse):
 *  - extra memory per entry while a view is open (heap with array buffers, and RSS, after a full collection), and per
 *    key written while it is open (beyond the values the writes put in);
 *  - the longest event-loop pause while store.create writes the snapshot with a writer going on
 *    (perf_hooks.monitorEventLoopDelay), per million entries, beside the same writer's alone; and
 *    the mapSource() call itself, its wall and CPU time (the CPU time is what a loaded machine
 *    does not inflate);
 *  - write throughput with a view open against without (the write path alone: set/delete in a
 *    tight loop), and of a writer doing batches on every turn of the event loop during a
 *    store.create against the same writer alone (which includes the CPU the snapshot takes);
 *  - for comparison, the stop-the-world copy (`new Map(map)`) a consistent snapshot needed before.
 *
 *   npm run bench:consistency -- --entries 1m,3m [--rounds 5] [--modes default,full,background] [--writers alloc,pooled]
 *     [--node-flags "--trace-gc"] [--codec none] [--profile]  (sizes: 300k, 1m …)
 *
 * What the writer loses during a snapshot is split in each round's line: its operations per ms
 * of main-thread CPU time inside its own batches (how fast its operations ran: the write path of
 * an open view, collections inside them, caches), and its batches' share of the main thread's
 * CPU time (what the snapshot, the collector's tasks and the loop took between them); the
 * process's other threads' CPU (compression, the collector's helpers) per ms of the window.
 * `--codec none` takes the compression threads out; `--profile` prints where the main thread's
 * time went in the first round's two windows (V8's sampling profiler, self time by function).
 *
 * Each window also counts the garbage collections in it (PerformanceObserver 'gc': the longest
 * scavenge and the longest and number of full collections, main-thread pause each), so a long
 * pause can be told for what it is: a collection, with or without the snapshot, or the
 * snapshot's own work (a longest pause well above the longest collection).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import inspector from 'node:inspector';
import os from 'node:os';
import path from 'node:path';
import { constants as perfConstants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { mapSource, DirectorySnapshotStore, type SnapshotMap } from 'snapstream';

const here = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => (args.includes(name) ? args[args.indexOf(name) + 1]! : fallback);
const parseCount = (s: string): number => Number(s.replace(/[mk]$/i, '')) * (/m$/i.test(s) ? 1e6 : /k$/i.test(s) ? 1e3 : 1);
const ROUNDS = Number(arg('--rounds', '5'));
/**
 * store.create as it comes (background: a twentieth of the main thread and all cores but one while
 * the application is busy), and at full speed (`background: false`); `background` asks for the
 * default by name (the CheckpointScheduler's way; before it was the default, the only paced mode).
 */
const MODES: [string, Record<string, unknown>][] = (
  [
    ['default', {}],
    ['full', { background: false }],
    ['background', { background: true }],
  ] as [string, Record<string, unknown>][]
).filter(([m]) => arg('--modes', 'default,full').split(',').includes(m));
/**
 * The writer: `alloc` puts a new 100-character string in with every set, as a cache does (each
 * survives a scavenge and ends as old-generation garbage: its own collections, full ones of a
 * heap this big lasting up to a second, snapshot or not); `pooled` sets strings from a fixed
 * pool and allocates only its keys, so it makes no long collections of its own, and a long pause
 * during the snapshot is the snapshot's (its work, what the view allocates and keeps alive).
 */
const WRITERS = arg('--writers', 'alloc,pooled').split(',');
for (const w of WRITERS) if (w !== 'alloc' && w !== 'pooled') throw new Error(`unknown writer ${w}`);
/**
 * The snapshots' codec: `none` keeps the second core all but idle (no compression threads at
 * work), to tell what they cost the writer from what the main thread's share does.
 */
const CODEC = arg('--codec', 'zstd') as 'zstd' | 'lz4' | 'none';
/** Profile the first round's windows (V8's sampling profiler) and print where the main thread's time went. */
const PROFILE = args.includes('--profile');
/** The main thread's profiler, through the inspector: self samples by function, the top ones. */
const profiler = (() => {
  let session: inspector.Session | null = null;
  const post = (method: string, params?: object): Promise<unknown> =>
    new Promise((resolve, reject) => session!.post(method, params ?? {}, (err, r) => (err ? reject(err) : resolve(r))));
  return {
    async start(): Promise<void> {
      if (!session) {
        session = new inspector.Session();
        session.connect();
        await post('Profiler.enable');
        await post('Profiler.setSamplingInterval', { interval: 200 });
      }
      await post('Profiler.start');
    },
    async stop(): Promise<string> {
      const { profile } = (await post('Profiler.stop')) as {
        profile: { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]; samples: number[] };
      };
      const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
      const counts = new Map<string, number>();
      for (const id of profile.samples) {
        const f = byId.get(id)!;
        const name = `${f.functionName || '(anonymous)'} ${f.url ? `${path.basename(f.url)}:${f.lineNumber + 1}` : ''}`.trim();
        counts.set(name, (counts.get(name) ?? 0) + 1);
      }
      const total = profile.samples.length;
      return [...counts]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 25)
        .map(([name, c]) => `    ${((c / total) * 100).toFixed(1).padStart(5)}%  ${name}\n`)
        .join('');
    },
  };
})();
/** A (mode, writer) pair's name in the results. */
const label = (mode: string, writer: string): string => (writer === 'alloc' ? mode : `${mode}, ${writer} writer`);

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const collect = (): void => {
  gc();
  gc();
};
const mb = (b: number): string => (b / 1024 ** 2).toFixed(0);
/**
 * CPU time (ms) of the main thread alone, from /proc (Linux; NaN elsewhere): the writer's ops per
 * ms of it, during the snapshot against alone, is the share of the main thread the writer got,
 * which a loaded machine does not change the way it changes wall-clock rates.
 */
const tick = 1000 / 100; // USER_HZ
/**
 * CPU time (ms) of the calling thread, to the nanosecond (/proc/thread-self/schedstat; NaN where
 * there is none): read around each of the writer's batches, cheap enough for that (one pread).
 */
const schedFd = ((): number => {
  try {
    return fs.openSync('/proc/thread-self/schedstat', 'r');
  } catch {
    return -1;
  }
})();
const schedBuf = Buffer.alloc(128);
const threadCpuMs = (): number => {
  if (schedFd < 0) return Number.NaN;
  const n = fs.readSync(schedFd, schedBuf, 0, schedBuf.length, 0);
  return Number(schedBuf.toString('latin1', 0, n).split(' ')[0]) / 1e6;
};
const tickCpuMs = (): number => {
  try {
    const f = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * tick;
  } catch {
    return Number.NaN;
  }
};
const mainCpuMs = (): number => (schedFd >= 0 ? threadCpuMs() : tickCpuMs());
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Collections in one window: the longest scavenge, the full collections (count, longest), all their time (ms). */
interface Collections {
  minorMax: number;
  majors: number;
  majorMax: number;
  totalMs: number;
}
/** Every collection seen: when it started (performance.now() time), its pause and kind. */
const collections: { start: number; ms: number; major: boolean; minor: boolean }[] = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
    collections.push({ start: e.startTime, ms: e.duration, major: kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR, minor: kind === perfConstants.NODE_PERFORMANCE_GC_MINOR });
  }
});
/** The collections that started between `from` and `to` (performance.now() times), once their entries have been delivered. */
const collectionsIn = async (from: number, to: number): Promise<Collections> => {
  // Entries are delivered a turn or two after the collection.
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  const c: Collections = { minorMax: 0, majors: 0, majorMax: 0, totalMs: 0 };
  for (const e of collections) {
    if (e.start < from || e.start > to) continue;
    c.totalMs += e.ms;
    if (e.major) {
      c.majors++;
      c.majorMax = Math.max(c.majorMax, e.ms);
    } else if (e.minor) c.minorMax = Math.max(c.minorMax, e.ms);
  }
  collections.length = 0;
  return c;
};

/** A seeded PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

async function child(n: number): Promise<Record<string, number>> {
  const out: Record<string, number> = { entries: n };
  gcObserver.observe({ entryTypes: ['gc'] });
  const map: SnapshotMap = new Map();
  const value = (i: number, tag: string): string => `${tag}:${i}:`.padEnd(100, 'x');
  for (let i = 0; i < n; i++) map.set(`key:${i}`, value(i, 'v0'));
  const rand = rng(7);
  // A writer's op: overwrite 60%, insert 20%, delete 20%, over a fixed key space a quarter
  // larger than the map, so the map keeps its size round after round (an ever-growing map
  // would make each snapshot longer than the last and measure the growth, not the snapshot).
  const span = Math.ceil(n * 1.25);
  const pool = Array.from({ length: 4096 }, (_, i) => value(i, 'pool'));
  let pooled = false;
  const op = (tag: number): void => {
    const r = rand();
    const k = `key:${Math.floor(rand() * span)}`;
    if (r < 0.8) map.set(k, pooled ? pool[tag & 4095]! : value(tag, r < 0.6 ? 'w' : 'n'));
    else map.delete(k);
  };

  // 1. Memory of an open view, and its opening pause.
  collect();
  const h0 = process.memoryUsage();
  let t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let view = mapSource(map);
  out.openMs = performance.now() - t0;
  // CPU time of the call: on a loaded machine the wall time counts the time spent descheduled too
  // (no other thread of this process runs during it).
  const cpu = process.cpuUsage(cpu0);
  out.openCpuMs = (cpu.user + cpu.system) / 1000;
  collect();
  const h1 = process.memoryUsage();
  // The table of keys read is a typed array: its memory is outside the JS heap (arrayBuffers).
  out.viewHeapPerEntry = (h1.heapUsed + h1.arrayBuffers - h0.heapUsed - h0.arrayBuffers) / n;
  out.viewRssPerEntry = (h1.rss - h0.rss) / n;
  // Writes while it is open: what each costs beyond the value it puts in.
  const writes = Math.floor(n / 10);
  const keysWritten = (from: number): string[] => Array.from({ length: writes }, (_, i) => `key:${(from + i * 7) % n}`);
  const ks = keysWritten(1);
  collect();
  const h2 = process.memoryUsage();
  for (let i = 0; i < writes; i++) map.set(ks[i]!, value(i, 'cow'));
  collect();
  const h3 = process.memoryUsage();
  await view.close!();
  const ks2 = keysWritten(3);
  collect();
  const h4 = process.memoryUsage();
  for (let i = 0; i < writes; i++) map.set(ks2[i]!, value(i, 'plain'));
  collect();
  const h5 = process.memoryUsage();
  out.cowHeapPerWrite = (h3.heapUsed - h2.heapUsed - (h5.heapUsed - h4.heapUsed)) / writes;

  // 2. The write path alone: ops/s with a view open against without, rounds alternated.
  // Both per second of wall time and per second of the process's CPU time (what load blurs less).
  const OPS = 200_000;
  const cpuRates: number[] = [];
  const round = (): number => {
    const s = performance.now();
    const c = process.cpuUsage();
    for (let i = 0; i < OPS; i++) op(i);
    const used = process.cpuUsage(c);
    cpuRates.push(OPS / ((used.user + used.system) / 1e6));
    return OPS / ((performance.now() - s) / 1000);
  };
  const plain: number[] = [];
  const viewed: number[] = [];
  const cpuRatios: number[] = [];
  for (let r = 0; r < 5; r++) {
    plain.push(round());
    view = mapSource(map);
    viewed.push(round());
    await view.close!();
    cpuRatios.push(cpuRates.at(-1)! / cpuRates.at(-2)!);
  }
  out.writePathPlain = median(plain);
  out.writePathViewed = median(viewed);
  out.writePathCpuRatio = median(cpuRatios);

  // 3. store.create with a writer going on, against the same writer alone for as long, in
  // alternating windows of the same process (the machine is shared: only side by side figures
  // mean much). What a snapshot *causes* is the difference: the writer's own allocations cause
  // collections of the big heap, with pauses of their own, snapshot or not.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapstream-consistency-'));
  const store = await DirectorySnapshotStore.at(dir, { retention: { maxSnapshots: 2 }, write: { codec: CODEC } });
  await store.create([{ key: 'warm', value: 'up' }], { index: 0 }); // starts the workers
  const BATCH = 2_000;
  /** The writer's operations, and the time spent in its batches (ms: where its own operations ran). */
  interface Written {
    ops: number;
    busyMs: number;
    /** Main-thread CPU time in the batches (ms). */
    busyCpuMs: number;
  }
  const writer = (until: () => boolean): Promise<Written> =>
    new Promise((resolve) => {
      let ops = 0;
      let busyMs = 0;
      let busyCpuMs = 0;
      const turn = (): void => {
        if (until()) return resolve({ ops, busyMs, busyCpuMs });
        const c = threadCpuMs();
        const t = performance.now();
        for (let i = 0; i < BATCH; i++) op(i);
        busyMs += performance.now() - t;
        busyCpuMs += threadCpuMs() - c;
        ops += BATCH;
        setImmediate(turn);
      };
      setImmediate(turn);
    });
  interface Window {
    gc: Collections;
    ms: number;
    /** Writer ops per ms of the main thread's CPU time. */
    perCpu: number;
    /**
     * Writer ops per ms spent in its own batches (collections inside them included): how fast its
     * operations ran, whatever else had the main thread between them.
     */
    perBusy: number;
    /** The share of the window's wall time spent in the writer's batches (rate = perBusy × busyShare). */
    busyShare: number;
    /** Writer ops per ms of main-thread CPU in its batches (what load does not blur). */
    perBusyCpu: number;
    /** The share of the main thread's CPU time in the writer's batches (perCpu = perBusyCpu × busyCpuShare). */
    busyCpuShare: number;
    /** CPU time of the process's other threads (compression, the collector's helpers, libuv) per ms of the window. */
    others: number;
    max: number;
    p99: number;
    rate: number;
  }
  const withSnapshot = async (options: Record<string, unknown>, index: number): Promise<Window> => {
    collect();
    const h = monitorEventLoopDelay({ resolution: 1 });
    let done = false;
    const s = performance.now();
    const c = mainCpuMs();
    const pc = process.cpuUsage();
    h.enable();
    const creating = store.create(mapSource(map, { index }), undefined, options);
    const during = writer(() => done);
    await creating.finally(() => (done = true));
    const ms = performance.now() - s;
    const { ops, busyMs, busyCpuMs } = await during;
    h.disable();
    const cpu = mainCpuMs() - c;
    const p = process.cpuUsage(pc);
    const gc = await collectionsIn(s, s + ms);
    return { gc, ms, perCpu: ops / cpu, perBusy: ops / busyMs, busyShare: busyMs / ms, perBusyCpu: ops / busyCpuMs, busyCpuShare: busyCpuMs / cpu, others: ((p.user + p.system) / 1000 - cpu) / ms, max: h.max / 1e6, p99: h.percentile(99) / 1e6, rate: ops / (ms / 1000) };
  };
  const alone = async (ms: number): Promise<Window> => {
    collect();
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const s = performance.now();
    const c = mainCpuMs();
    const pc = process.cpuUsage();
    const { ops, busyMs, busyCpuMs } = await writer(() => performance.now() - s >= ms);
    const took = performance.now() - s;
    const cpu = mainCpuMs() - c;
    const p = process.cpuUsage(pc);
    h.disable();
    const gc = await collectionsIn(s, s + took);
    return { gc, ms: took, perCpu: ops / cpu, perBusy: ops / busyMs, busyShare: busyMs / took, perBusyCpu: ops / busyCpuMs, busyCpuShare: busyCpuMs / cpu, others: ((p.user + p.system) / 1000 - cpu) / took, max: h.max / 1e6, p99: h.percentile(99) / 1e6, rate: ops / (took / 1000) };
  };
  let index = 1;
  for (const [writerKind, [mode0, options]] of WRITERS.flatMap((w) => MODES.map((m) => [w, m] as const))) {
    pooled = writerKind === 'pooled';
    const mode = label(mode0, writerKind);
    // The same snapshot with the process idle (no writer): background must not slow it.
    collect();
    const s0 = performance.now();
    await store.create(mapSource(map, { index: index++ }), undefined, options);
    out[`${mode}.idleMs`] = performance.now() - s0;
    const rounds: { w: Window; a: Window }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // --profile: where the main thread's time goes in the first round's two windows.
      const profiling = PROFILE && r === 0;
      if (profiling) await profiler.start();
      const w = await withSnapshot(options, index++);
      if (profiling) process.stderr.write(`  ${mode}, snapshot window: main-thread samples by function\n${await profiler.stop()}`);
      if (profiling) await profiler.start();
      const a = await alone(w.ms);
      if (profiling) process.stderr.write(`  ${mode}, writer alone: main-thread samples by function\n${await profiler.stop()}`);
      rounds.push({ w, a });
      process.stderr.write(
        `  ${n / 1e6}M ${mode} round ${r + 1}: idle snapshot ${out[`${mode}.idleMs`]!.toFixed(0)} ms, snapshot ${w.ms.toFixed(0)} ms, pause ${w.max.toFixed(1)} (p99 ${w.p99.toFixed(1)}) vs alone ${a.max.toFixed(1)} (p99 ${a.p99.toFixed(1)}) ms, writer ${(w.rate / 1e3).toFixed(0)} vs ${(a.rate / 1e3).toFixed(0)} k ops/s (${((w.rate / a.rate) * 100).toFixed(0)}%; per ms of main-thread CPU ${((w.perCpu / a.perCpu) * 100).toFixed(0)}%), ` +
          `collections during / alone: longest scavenge ${w.gc.minorMax.toFixed(1)} / ${a.gc.minorMax.toFixed(1)} ms, full ${w.gc.majors} / ${a.gc.majors} (longest ${w.gc.majorMax.toFixed(1)} / ${a.gc.majorMax.toFixed(1)} ms), ` +
          `all ${w.gc.totalMs.toFixed(0)} / ${a.gc.totalMs.toFixed(0)} ms, ` +
          `writer's own ops per ms of its batches ${((w.perBusy / a.perBusy) * 100).toFixed(0)}% (per CPU ms ${((w.perBusyCpu / a.perBusyCpu) * 100).toFixed(0)}%), ` +
          `time in its batches ${(w.busyShare * 100).toFixed(0)}% / ${(a.busyShare * 100).toFixed(0)}% (of main-thread CPU ${(w.busyCpuShare * 100).toFixed(0)}% / ${(a.busyCpuShare * 100).toFixed(0)}%), ` +
          `other threads ${(w.others * 100).toFixed(0)}% / ${(a.others * 100).toFixed(0)}% of a core, ` +
          `load ${os.loadavg()[0]!.toFixed(1)}\n`,
      );
    }
    const m = (f: (x: { w: Window; a: Window }) => number): number => median(rounds.map(f));
    out[`${mode}.createMs`] = m((x) => x.w.ms);
    out[`${mode}.maxPauseMs`] = m((x) => x.w.max);
    out[`${mode}.p99PauseMs`] = m((x) => x.w.p99);
    out[`${mode}.maxPauseAloneMs`] = m((x) => x.a.max);
    out[`${mode}.p99PauseAloneMs`] = m((x) => x.a.p99);
    out[`${mode}.pauseAddedMs`] = m((x) => x.w.max - x.a.max);
    out[`${mode}.writerDuring`] = m((x) => x.w.rate);
    out[`${mode}.writerAlone`] = m((x) => x.a.rate);
    out[`${mode}.writerRatio`] = m((x) => x.w.rate / x.a.rate);
    out[`${mode}.writerCpuRatio`] = m((x) => x.w.perCpu / x.a.perCpu);
    out[`${mode}.writerOwnRatio`] = m((x) => x.w.perBusyCpu / x.a.perBusyCpu);
    out[`${mode}.busyShare`] = m((x) => x.w.busyCpuShare);
    out[`${mode}.busyShareAlone`] = m((x) => x.a.busyCpuShare);
    out[`${mode}.gcMaxMs`] = m((x) => Math.max(x.w.gc.minorMax, x.w.gc.majorMax));
    out[`${mode}.gcMaxAloneMs`] = m((x) => Math.max(x.a.gc.minorMax, x.a.gc.majorMax));
    out[`${mode}.majors`] = m((x) => x.w.gc.majors);
    out[`${mode}.majorsAlone`] = m((x) => x.a.gc.majors);
    // The first snapshot of a map whose strings were built by concatenation (V8 cons strings,
    // as here) flattens each one it encodes: a one-time cost, shown apart.
    out[`${mode}.first.maxPauseMs`] = rounds[0]!.w.max;
    out[`${mode}.first.maxPauseAloneMs`] = rounds[0]!.a.max;
    out[`${mode}.first.writerRatio`] = rounds[0]!.w.rate / rounds[0]!.a.rate;
  }
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });

  // 4. The stop-the-world copy, for comparison.
  collect();
  const c0 = process.memoryUsage().heapUsed;
  t0 = performance.now();
  const copy = new Map(map);
  out.copyMs = performance.now() - t0;
  collect();
  out.copyHeapPerEntry = (process.memoryUsage().heapUsed - c0) / map.size;
  out.copySize = copy.size;
  out.heapMb = Number(mb(process.memoryUsage().heapUsed));
  return out;
}

if (args[0] === '--child') {
  console.log(JSON.stringify(await child(Number(args[1]))));
} else {
  const sizes = arg('--entries', '1m').split(',');
  // Extra options for the measuring process (say --trace-gc, whose lines go to its stdout: the
  // result is its last line).
  const nodeFlags = arg('--node-flags', '').split(' ').filter(Boolean);
  console.log(`mapSource consistency, Node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} at the start`);
  const rows = [
    '| entries | view: heap + array buffers / RSS per entry | per key written | mapSource(): wall / CPU | write path viewed / plain (per CPU second) | `new Map(map)`: time, heap per entry |',
    '|---|---|---|---|---|---|',
  ];
  const pauses = [
    '| entries | store.create | snapshot wall: idle process / with the writer | longest pause: during the snapshot / writer alone / added (per M) | p99: during / alone | longest collection: during / alone (full collections) | writer during / alone | writer ops per main-thread CPU ms, during / alone | writer ops per main-thread CPU ms in its batches, during ÷ alone; the batches\' share of main-thread CPU, during / alone | first snapshot: pause during / alone, writer |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const s of sizes) {
    const n = parseCount(s);
    const r = spawnSync(process.execPath, ['--max-old-space-size=4096', ...nodeFlags, here, '--child', String(n), '--rounds', String(ROUNDS), '--modes', MODES.map(([m]) => m).join(','), '--writers', WRITERS.join(','), '--codec', CODEC, ...(PROFILE ? ['--profile'] : [])], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (r.status !== 0) throw new Error(`child for ${s} failed (${r.status})`);
    const lines = r.stdout.trimEnd().split('\n');
    if (nodeFlags.length > 0) process.stderr.write(lines.slice(0, -1).join('\n') + '\n');
    const o = JSON.parse(lines.at(-1)!) as Record<string, number>;
    rows.push(
      `| ${s} | ${o.viewHeapPerEntry!.toFixed(1)} B / ${o.viewRssPerEntry!.toFixed(1)} B | ${o.cowHeapPerWrite!.toFixed(0)} B | ${o.openMs!.toFixed(1)} / ${o.openCpuMs!.toFixed(1)} ms ` +
        `| ${(o.writePathViewed! / 1e6).toFixed(2)} / ${(o.writePathPlain! / 1e6).toFixed(2)} M ops/s (${((o.writePathViewed! / o.writePathPlain!) * 100).toFixed(0)}%; ${(o.writePathCpuRatio! * 100).toFixed(0)}%) ` +
        `| ${o.copyMs!.toFixed(0)} ms, ${o.copyHeapPerEntry!.toFixed(0)} B |`,
    );
    for (const mode of WRITERS.flatMap((w) => MODES.map(([m]) => label(m, w)))) {
      const g = (k: string): number => o[`${mode}.${k}`]!;
      const perM = g('pauseAddedMs') / (n / 1e6);
      pauses.push(
        `| ${s} | ${mode} | ${(g('idleMs') / 1000).toFixed(2)} / ${(g('createMs') / 1000).toFixed(2)} s ` +
          `| ${g('maxPauseMs').toFixed(1)} / ${g('maxPauseAloneMs').toFixed(1)} / ${g('pauseAddedMs').toFixed(1)} ms (${perM.toFixed(1)} ms) ` +
          `| ${g('p99PauseMs').toFixed(1)} / ${g('p99PauseAloneMs').toFixed(1)} ms ` +
          `| ${g('gcMaxMs').toFixed(1)} / ${g('gcMaxAloneMs').toFixed(1)} ms (${g('majors')} / ${g('majorsAlone')}) ` +
          `| ${(g('writerDuring') / 1e3).toFixed(0)} / ${(g('writerAlone') / 1e3).toFixed(0)} k ops/s (${(g('writerRatio') * 100).toFixed(0)}%) ` +
          `| ${(g('writerCpuRatio') * 100).toFixed(0)}% ` +
          `| ${(g('writerOwnRatio') * 100).toFixed(0)}%; ${(g('busyShare') * 100).toFixed(0)}% / ${(g('busyShareAlone') * 100).toFixed(0)}% ` +
          `| ${g('first.maxPauseMs').toFixed(1)} / ${g('first.maxPauseAloneMs').toFixed(1)} ms, ${(g('first.writerRatio') * 100).toFixed(0)}% |`,
      );
    }
  }
  console.log(rows.join('\n'));
  console.log(`\nstore.create with a writer going on (medians of ${ROUNDS} rounds; each round a snapshot window, then the writer alone as long):`);
  console.log(pauses.join('\n'));

  console.log(`load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} at the end`);
}
