/**
 * `npm run bench:view-cost [-- --node PATH]`
 *
 * What one 130-byte view of an 8 KiB Buffer costs to make, the ways a real Buffer (or, for
 * the floor, a plain Uint8Array) can be made (docs/BENCHMARKS.md, "Reading entries and
 * bytes"): the entry parser makes two per entry. CPU time of this process per view, the
 * median of 5 rounds of 4 M views each.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const N = 4_000_000;

function measure(): void {
  const slab = Buffer.allocUnsafeSlow(8192).fill(7);
  const memory = slab.buffer;
  const base = slab.byteOffset;
  function BufferView(): void {}
  BufferView.prototype = Buffer.prototype;
  // Node's own Buffer class (FastBuffer), which Buffer.from and subarray construct: `Buffer[Symbol.species]`.
  const Species = (Buffer as unknown as { [Symbol.species]: new (m: ArrayBufferLike, o: number, l: number) => Buffer })[Symbol.species];
  const ways: [string, (i: number) => Uint8Array][] = [
    ['buf.subarray(start, end)', (i) => slab.subarray(i & 4095, (i & 4095) + 130)],
    ['new Buffer[Symbol.species](memory, offset, length)', (i) => new Species(memory, base + (i & 4095), 130)],
    ['Buffer.from(memory, offset, length)', (i) => Buffer.from(memory, base + (i & 4095), 130)],
    ['Reflect.construct(Uint8Array, …, F), F.prototype = Buffer.prototype', (i) => Reflect.construct(Uint8Array, [memory, base + (i & 4095), 130], BufferView) as Uint8Array],
    ['Object.setPrototypeOf(new Uint8Array(…), Buffer.prototype)', (i) => Object.setPrototypeOf(new Uint8Array(memory, base + (i & 4095), 130), Buffer.prototype) as Uint8Array],
    ['new Uint8Array(memory, offset, length) (not a Buffer: the floor)', (i) => new Uint8Array(memory, base + (i & 4095), 130)],
  ];
  const rows: string[] = [];
  for (const [name, make] of ways) {
    const rounds: number[] = [];
    for (let round = 0; round < 5; round++) {
      let bytes = 0;
      const cpu = process.cpuUsage();
      for (let i = 0; i < N; i++) bytes += make(i).length;
      const used = process.cpuUsage(cpu);
      if (bytes !== N * 130) throw new Error('wrong length');
      rounds.push(((used.user + used.system) * 1000) / N);
    }
    rounds.sort((a, b) => a - b);
    rows.push(`| ${name} | ${rounds[2]!.toFixed(0)} ns |`);
  }
  process.stdout.write(`Node ${process.version}\n\n| a view made by | CPU time per view |\n|---|---|\n${rows.join('\n')}\n`);
}

const argv = process.argv.slice(2);
const at = argv.indexOf('--node');
if (at >= 0) {
  const r = spawnSync(argv[at + 1]!, [fileURLToPath(import.meta.url)], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
} else {
  measure();
}
