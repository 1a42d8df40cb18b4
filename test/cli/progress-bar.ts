// Progress measured on the input, drawn on stderr in a real terminal (a pseudo-terminal from
// `script`): bytes and input rate; when the size is known (stdin redirected from a file, a FILE
// argument) a percentage, a bar and the time left; at the end one summary line with input size,
// output size, ratio, time and rate. Never drawn in a pipe or with --quiet; with --json, JSON
// lines on stderr instead.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { root } from '../fixtures/built-dist.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0xfb1a46dc);

const cli = path.join(root, 'dist', 'cli', 'main.js');
const node = process.execPath;

/** Runs a shell line with stdout and stderr on a pseudo-terminal; returns what it showed. */
function inTerminal(line: string): { code: number | null; shown: string } {
  const r = spawnSync('script', ['-qfec', line, '/dev/null'], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, shown: r.stdout };
}

t.test('stdin from a file: percentage, bar, time left, then the summary line', async (t) => {
  const dir = t.testdir();
  const input = path.join(dir, 'in.bin');
  fs.writeFileSync(input, randomBytes(40 * 1024 * 1024));
  const out = path.join(dir, 'out.zst');
  const { code, shown } = inTerminal(`${node} ${cli} compress < ${input} > ${out}`);
  t.equal(code, 0);
  t.match(shown, /\r\x1b\[Kcompress\s+\d+%\s+\[[#-]{20}\]\s+[\d.]+ (B|KiB|MiB) \/ 40\.0 MiB\s+[\d.]+ (B|KiB|MiB|GiB)\/s/, 'percentage, bar, bytes of the known size, input rate');
  t.match(shown, /\r\x1b\[Kcompress\s+100%\s+\[#{20}\]\s+40\.0 MiB \/ 40\.0 MiB/, 'the final state shows all the input');
  const size = fs.statSync(out).size;
  t.match(shown, /\r\x1b\[Kcompress: 40\.0 MiB in, 40\.0 MiB out \(1\.00×\), [\d.]+ s, [\d.]+ (KiB|MiB|GiB)\/s\r?\n/, 'one summary line');
  t.ok(size > 40 * 1024 * 1024, 'random bytes do not shrink');
});

t.test('stdin from a pipe: no percentage, bytes and rate only', async (t) => {
  const dir = t.testdir();
  const input = path.join(dir, 'in.bin');
  fs.writeFileSync(input, randomBytes(8 * 1024 * 1024));
  const { shown } = inTerminal(`cat ${input} | ${node} ${cli} compress > ${path.join(dir, 'out.zst')}`);
  t.match(shown, /\r\x1b\[Kcompress\s+[\d.]+ (B|KiB|MiB)\s+[\d.]+ (B|KiB|MiB|GiB)\/s/);
  t.notMatch(shown, /%/, 'no percentage without a known size');
  t.match(shown, /compress: 8\.0 MiB in, 8\.0 MiB out/);
});

t.test('pack counts JSON Lines bytes and entries read, not the compressed output', async (t) => {
  const dir = t.testdir();
  const input = path.join(dir, 'in.jsonl');
  const lines: string[] = [];
  for (let i = 0; i < 200_000; i++) lines.push(JSON.stringify({ key: `user:${i}`, value: `value number ${i} `.repeat(4) }));
  fs.writeFileSync(input, `${lines.join('\n')}\n`);
  const inSize = fs.statSync(input).size;
  const mib = (inSize / 1024 / 1024).toFixed(1);
  const { code, shown } = inTerminal(`${node} ${cli} pack ${path.join(dir, 'p.snap')} < ${input}`);
  t.equal(code, 0);
  t.match(shown, new RegExp(`\\r\\x1b\\[Kpack\\s+100%\\s+\\[#{20}\\]\\s+${mib} MiB / ${mib} MiB\\s+[\\d.]+ (KiB|MiB|GiB)/s\\s+200,000 entries`), 'input bytes and entries');
  const outSize = fs.statSync(path.join(dir, 'p.snap')).size;
  const ratio = (inSize / outSize).toFixed(2);
  t.match(shown, new RegExp(`pack: ${mib} MiB in, [\\d.]+ (KiB|MiB) out \\(${ratio}×\\), 200,000 entries, [\\d.]+ s, `), 'summary with the ratio of input to output');

  // unpack FILE knows its input size too.
  const unpacked = inTerminal(`${node} ${cli} unpack ${path.join(dir, 'p.snap')} > ${path.join(dir, 'out.jsonl')}`);
  t.equal(unpacked.code, 0);
  t.match(unpacked.shown, /\r\x1b\[Kunpack\s+\d+%\s+\[[#-]{20}\]/, 'a bar for a FILE argument');
  t.match(unpacked.shown, new RegExp(`unpack: [\\d.]+ (KiB|MiB) in, ${mib} MiB out \\([\\d.]+×\\), 200,000 entries`), 'summary of unpack');
  t.equal(fs.readFileSync(path.join(dir, 'out.jsonl'), 'utf8'), fs.readFileSync(input, 'utf8'));
});

t.test('not in a pipe, not with --quiet; --json progress goes to stderr as JSON lines', async (t) => {
  const dir = t.testdir();
  const input = path.join(dir, 'in.bin');
  fs.writeFileSync(input, randomBytes(4 * 1024 * 1024));
  t.notMatch(inTerminal(`${node} ${cli} compress --quiet < ${input} > ${path.join(dir, 'out.zst')}`).shown, /compress/, '--quiet turns it off');
  t.notMatch(inTerminal(`${node} ${cli} --quiet compress < ${input} > ${path.join(dir, 'out.zst')}`).shown, /compress/, '--quiet before the command too');
  const piped = spawnSync(node, [cli, 'compress'], { input: fs.readFileSync(input), stdio: ['pipe', 'ignore', 'pipe'], timeout: 60_000 });
  t.equal(piped.status, 0);
  t.equal(piped.stderr.length, 0, 'nothing on stderr when it is not a terminal');
  const json = spawnSync(node, [cli, '--json', 'compress', input, path.join(dir, 'c.zst')], { encoding: 'utf8', timeout: 60_000 });
  t.equal(json.status, 0);
  const events = json.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.match(events.at(-1), { event: 'done', command: 'compress', bytesIn: 4 * 1024 * 1024, bytesOut: Number });
  const result = JSON.parse(json.stdout) as Record<string, unknown>;
  t.match(result, { bytesIn: 4 * 1024 * 1024 }, 'the result alone on stdout');
});

t.test('store restore: a bar against the snapshot being restored', async (t) => {
  const { DirectorySnapshotStore, mapSource } = await import('../../lib/index.js');
  const dir = t.testdir();
  const store = await DirectorySnapshotStore.at(path.join(dir, 'store'));
  const map = new Map<string, string>();
  for (let i = 0; i < 50_000; i++) map.set(`key:${i}`, `value ${i}`);
  await store.create(mapSource(map));
  const [snapshot] = await store.list();
  await store.close();
  const { code, shown } = inTerminal(`${node} ${cli} store restore --dir ${path.join(dir, 'store')} --to-jsonl ${path.join(dir, 'out.jsonl')}`);
  t.equal(code, 0, shown);
  const size = snapshot!.size < 1024 * 1024 ? `${(snapshot!.size / 1024).toFixed(1)} KiB` : `${(snapshot!.size / 1024 / 1024).toFixed(1)} MiB`;
  t.match(shown, new RegExp(`\\r\\x1b\\[Krestore\\s+100%\\s+\\[#{20}\\]\\s+${size} / ${size}\\s+\\S+ \\S+/s\\s+50,000 entries`));
  t.match(shown, new RegExp(`restore: ${size} in, 50,000 entries, [\\d.]+ s, `));
  t.match(shown, /restored snap-\d+: 50,000 entries/);
});
