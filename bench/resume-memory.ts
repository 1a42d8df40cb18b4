/**
 * Resuming costs the same memory whatever the snapshot's size: for each size, a writer leaves a
 * partial at 90%, then a fresh process resumes it; its peak RSS and the time it spends before
 * writing (analysing the partial) are compared across sizes.
 *
 *   npm run bench:resume -- --sizes 1g,4g
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzePartial } from 'snapstream';
import { option, parseSize } from './bench-args.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const sizesArg = option(args, '--sizes', '1g,4g');
const dir = path.join(os.tmpdir(), 'snapstream-resume-memory');
fs.mkdirSync(dir, { recursive: true });


function writer(out: string, entries: number, env: Record<string, string> = {}): Record<string, number> {
  const r = spawnSync(process.execPath, [path.join(here, 'resumable-writer.js'), out, String(entries)], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`writer failed: ${r.status}`);
  return JSON.parse(r.stdout) as Record<string, number>;
}

const rows: string[] = ['| snapshot | partial kept | analyse | resume peak RSS |', '|---|---|---|---|'];
const peaks: number[] = [];
for (const sizeText of sizesArg.split(',')) {
  const size = parseSize(sizeText);
  const entries = Math.ceil(size / 760);
  const out = path.join(dir, `s-${sizeText}.snap`);
  fs.rmSync(out, { force: true });
  fs.rmSync(`${out}.partial`, { force: true });
  // Compressed size is about a quarter of the raw size: stop at 90% of that.
  writer(out, entries, { STOP_AT_BYTES: String(Math.floor(size * 0.9 * 0.27)) });
  const t = performance.now();
  const a = await analyzePartial(`${out}.partial`);
  const analyseMs = performance.now() - t;
  const resumed = writer(out, entries);
  peaks.push(resumed.maxRssMB!);
  rows.push(
    `| ${sizeText} (${(fs.statSync(out).size / 1024 ** 2).toFixed(0)} MiB on disk) | ${(a.durableBytes / 1024 ** 2).toFixed(0)} MiB, ${a.blocks} blocks | ` +
      `${analyseMs.toFixed(0)} ms | ${resumed.maxRssMB!.toFixed(0)} MB |`,
  );
  fs.rmSync(out, { force: true });
}
process.stdout.write(`${rows.join('\n')}\n`);
const spread = Math.max(...peaks) / Math.min(...peaks) - 1;
process.stdout.write(`peak RSS spread across sizes: ${(spread * 100).toFixed(1)}% (limit 10%)\n`);
process.exitCode = spread <= 0.1 ? 0 : 1;
