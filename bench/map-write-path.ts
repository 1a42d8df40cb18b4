/**
 * `npm run bench:map-write-path [-- --entries 1m --read 0,0.5,1 --base DIR]`
 *
 * What a write costs the application while a mapSource view is open (docs/CONSISTENCY.md, "One
 * probe per write"): CPU time per `set`/`delete` on a map of `--entries` keys with a view open
 * and a share `--read` of it read already, against the same writes with no view, in alternating
 * rounds of 1 M writes (median of 5). The writes are the consistency benchmark's (60% overwrites,
 * 20% inserts, 20% deletes of random keys over 1.25× the map), keys built per write as an
 * application does, values from a fixed pool so that the figure is the write path's and not the
 * collector's. `--base DIR` runs the same in a checkout of another build (its `dist/` built),
 * alternating with this one, for before/after figures. Each build in its own process.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => (args.includes(name) ? args[args.indexOf(name) + 1]! : fallback);
const parseCount = (s: string): number => Number(s.replace(/[mk]$/i, '')) * (/m$/i.test(s) ? 1e6 : /k$/i.test(s) ? 1e3 : 1);
const OPS = 1_000_000;

interface View {
  size: number;
  valueAt(i: number): unknown;
  close(): void;
}

async function child(dist: string, n: number, read: number): Promise<void> {
  const { MapView } = (await import(pathToFileURL(path.join(dist, 'adapters/map-view.js')).href)) as { MapView: new (m: Map<unknown, unknown>) => View };
  const pool = Array.from({ length: 1024 }, (_, i) => `pool:${i}:`.padEnd(100, 'x'));
  const map = new Map<unknown, unknown>();
  for (let i = 0; i < n; i++) map.set(`key:${i}`, pool[i & 1023]);
  let a = 7;
  const rand = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
  const span = Math.ceil(n * 1.25);
  const run = (): number => {
    const c = process.cpuUsage();
    for (let i = 0; i < OPS; i++) {
      const r = rand();
      const k = `key:${Math.floor(rand() * span)}`;
      if (r < 0.8) map.set(k, pool[i & 1023]);
      else map.delete(k);
    }
    const u = process.cpuUsage(c);
    return ((u.user + u.system) * 1000) / OPS;
  };
  const plain: number[] = [];
  const viewed: number[] = [];
  for (let round = 0; round < 5; round++) {
    plain.push(run());
    const view = new MapView(map);
    for (let i = 0; i < view.size * read; i++) view.valueAt(i);
    viewed.push(run());
    view.close();
  }
  const med = (xs: number[]): number => [...xs].sort((x, y) => x - y)[2]!;
  console.log(JSON.stringify({ plain: med(plain), viewed: med(viewed) }));
}

if (args[0] === '--child') {
  await child(args[1]!, Number(args[2]), Number(args[3]));
} else {
  const n = parseCount(arg('--entries', '1m'));
  const reads = arg('--read', '0,0.5,1').split(',').map(Number);
  const base = args.includes('--base') ? path.resolve(arg('--base', '')) : null;
  const builds: [string, string][] = [['this build', path.resolve(path.dirname(here), '../../dist')]];
  if (base) builds.unshift(['base', path.join(base, 'dist')]);
  console.log(`CPU time per write, ${n} entries, Node ${process.version}\n`);
  console.log('| build | share of the view read | no view | view open | added | rate kept |\n|---|---|---|---|---|---|');
  for (const read of reads) {
    for (let pair = 0; pair < (base ? 3 : 1); pair++) {
      for (const [name, dist] of builds) {
        const r = spawnSync(process.execPath, [here, '--child', dist, String(n), String(read)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
        if (r.status !== 0) throw new Error(`${name} failed (${r.status})`);
        const o = JSON.parse(r.stdout) as { plain: number; viewed: number };
        console.log(`| ${name} | ${read * 100}% | ${o.plain.toFixed(0)} ns | ${o.viewed.toFixed(0)} ns | +${(o.viewed - o.plain).toFixed(0)} ns | ${((o.plain / o.viewed) * 100).toFixed(0)}% |`);
      }
    }
  }
}
