/**
 * Transfer throughput over loopback TCP, side by side with socat in one run: a raw `socat` copy
 * of the file into a file followed by one fsync, against sendSnapshot → snapshot server (per-chunk
 * CRC, whole-file CRC, the received file fsync'd and renamed). Sender and receiver run in
 * separate processes, each reporting its peak RSS.
 *
 *   npm run bench:transfer -- --size 1g --runs 3
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { option, parseSize } from './bench-args.js';
import { waitLine } from './child-lines.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => option(args, name, fallback);
const sizeText = opt('--size', '1g');
const size = parseSize(sizeText);
const runs = Number(opt('--runs', '3'));
const dir = path.join(os.tmpdir(), 'snapstream-transfer-bench');
fs.mkdirSync(dir, { recursive: true });
const source = path.join(dir, `source-${sizeText}.bin`);

function ensureSource(): void {
  if (fs.existsSync(source) && fs.statSync(source).size === size) return;
  const fd = fs.openSync(source, 'w');
  const block = Buffer.alloc(1 << 20);
  for (let i = 0; i < size / block.length; i++) {
    for (let j = 0; j < block.length; j += 4) block.writeUInt32LE((i * 2654435761 + j * 40503) >>> 0, j);
    fs.writeSync(fd, block);
  }
  fs.closeSync(fd);
}


async function socatRun(): Promise<number> {
  const out = path.join(dir, 'socat.out');
  fs.rmSync(out, { force: true });
  const port = 20000 + Math.floor(Math.random() * 20000);
  const listener = spawn('socat', ['-u', `TCP-LISTEN:${port},reuseaddr`, `OPEN:${out},creat,trunc`], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  const start = performance.now();
  const r = spawnSync('socat', ['-u', `OPEN:${source}`, `TCP:127.0.0.1:${port}`]);
  if (r.status !== 0) throw new Error('socat send failed');
  await new Promise((resolve) => listener.on('exit', resolve));
  const fd = fs.openSync(out, 'r+');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  const seconds = (performance.now() - start) / 1000;
  if (fs.statSync(out).size !== size) throw new Error('socat copy incomplete');
  return seconds;
}

async function oursRun(): Promise<{ seconds: number; serverRss: number; clientRss: number }> {
  const recvDir = path.join(dir, 'received');
  fs.rmSync(recvDir, { recursive: true, force: true });
  const server = spawn(process.execPath, [path.join(here, 'transfer-peer.js'), 'serve', recvDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = Number(await waitLine(server));
  const client = spawn(process.execPath, [path.join(here, 'transfer-peer.js'), 'send', source, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  // The sender's own figure: from its call of sendSnapshot to DONE (not Node's start-up).
  const clientOut = JSON.parse(await waitLine(client)) as { maxRssMB: number; seconds: number };
  const seconds = clientOut.seconds;
  server.kill('SIGTERM');
  const serverOut = JSON.parse(await new Promise<string>((resolve) => {
    let text = '';
    server.stdout!.on('data', (d: Buffer) => (text += d));
    server.on('exit', () => resolve(text.trim().split('\n').pop()!));
  })) as { maxRssMB: number };
  if (fs.statSync(path.join(recvDir, 'bench')).size !== size) throw new Error('transfer incomplete');
  return { seconds, serverRss: serverOut.maxRssMB, clientRss: clientOut.maxRssMB };
}

ensureSource();
const socat: number[] = [];
const ours: { seconds: number; serverRss: number; clientRss: number }[] = [];
for (let i = 0; i < runs; i++) {
  socat.push(await socatRun());
  ours.push(await oursRun());
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const s = median(socat);
const o = median(ours.map((r) => r.seconds));
const mbs = (sec: number): string => `${(size / 1e6 / sec).toFixed(0)} MB/s`;
const ratio = s / o;
const table =
  [
    `Transfer of ${sizeText} over loopback TCP, median of ${runs} runs:`,
    '',
    '| | throughput | peak RSS |',
    '|---|---|---|',
    `| socat copy into a file + one fsync | ${mbs(s)} | |`,
    `| sendSnapshot → snapshot server (CRC per chunk, fsync, rename) | ${mbs(o)} | sender ${Math.max(...ours.map((r) => r.clientRss)).toFixed(0)} MB, receiver ${Math.max(...ours.map((r) => r.serverRss)).toFixed(0)} MB |`,
    '',
    `ratio ${ratio.toFixed(2)}× (target ≥ 0.7×)`,
  ].join('\n') + '\n';
process.stdout.write(table);
if (args.includes('--update-docs')) {
  const doc = path.join(here, '..', '..', 'docs', 'BENCHMARKS.md');
  const text = fs.readFileSync(doc, 'utf8');
  fs.writeFileSync(doc, text.replace(/<!-- transfer:start -->[\s\S]*?<!-- transfer:end -->/, `<!-- transfer:start -->\n${table}<!-- transfer:end -->`));
}
process.exitCode = ratio >= 0.7 ? 0 : 1;
