/**
 * Fault run: a child process writing a snapshot is killed with SIGKILL at random points, again
 * and again; each restart resumes from the partial file. Every finished file must equal, byte
 * for byte, the one an uninterrupted run writes. Per kill it reports what the restart re-reads
 * from the source and re-writes, which must each be at most the remainder plus one block.
 *
 *   npm run fault:kill -- --count 50 --size 256m
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzePartial, inspectSnapshot, verifySnapshot } from 'snapstream';
import { option, parseSize } from './bench-args.js';

export interface KillResumeOptions {
  /** Kills to make. */
  count: number;
  /** Entries per snapshot (about 760 bytes each encoded). */
  entries: number;
  dir: string;
  /** Seed for the kill times. */
  seed?: number;
  log?: (line: string) => void;
}

export interface KillRecord {
  kill: number;
  /** Size of the partial file right after the kill. */
  sizeAtKill: number;
  /** What the restart keeps. */
  durableBytes: number;
  /** Bytes the restart writes again, and the part of the file still missing at the kill. */
  rewritten: number;
  remainder: number;
  /** Encoded bytes the restart reads from the source again, and those still unread at the kill. */
  reread: number;
  rawRemainder: number;
  /** Largest block in the file (its header and frame on disk; its raw bytes). */
  blockOnDisk: number;
  blockRaw: number;
  ok: boolean;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const writer = path.join(here, 'resumable-writer.js');

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
}

function runWriter(out: string, entries: number, killAfterMs: number | null): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, out, String(entries)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d));
    const timer = killAfterMs === null ? null : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, out: text });
    });
  });
}

function rng(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function killResume(o: KillResumeOptions): Promise<{ kills: KillRecord[]; finished: number }> {
  const log = o.log ?? (() => {});
  const random = rng(o.seed ?? 1);
  fs.mkdirSync(o.dir, { recursive: true });
  const reference = path.join(o.dir, 'reference.snap');
  const target = path.join(o.dir, 'resumed.snap');
  const partial = `${target}.partial`;
  for (const f of [reference, target, partial, path.join(o.dir, 'tiny.snap')]) fs.rmSync(f, { force: true });

  // Start-up time of a writer (process, imports, analysing the partial): kills are spread after it.
  let t0 = performance.now();
  await runWriter(path.join(o.dir, 'tiny.snap'), 1, null);
  const startupMs = performance.now() - t0;
  t0 = performance.now();
  const ref = await runWriter(reference, o.entries, null);
  if (ref.code !== 0) throw new Error(`reference run failed (${ref.code})`);
  const fullMs = performance.now() - t0 - startupMs;
  const refBytes = fs.readFileSync(reference);
  const info = await inspectSnapshot(reference);
  // Where each block ends on disk (its header frame and data frame), from the block index.
  const ends = info.blocks.map((b, i) => info.blocks[i + 1]?.offset ?? info.footer.offset);
  const blockOnDisk = Math.max(...info.blocks.map((b, i) => ends[i]! - b.offset));
  const blockRaw = Math.max(...info.blocks.map((b) => b.rawLength));
  log(`reference: ${info.fileSize} bytes, ${info.blocks.length} blocks, ${fullMs.toFixed(0)} ms after a ${startupMs.toFixed(0)} ms start-up`);

  const kills: KillRecord[] = [];
  let finished = 0;
  while (kills.length < o.count) {
    // Kill somewhere within what is left to write (plus the child's start-up).
    const done = fs.existsSync(partial) ? fs.statSync(partial).size / info.fileSize : 0;
    const delay = startupMs + random() * fullMs * Math.max(0.05, 1 - done);
    const r = await runWriter(target, o.entries, delay);
    if (r.code === 0) {
      finished += await checkFinished(target, refBytes, log);
      continue;
    }
    if (r.signal !== 'SIGKILL') throw new Error(`writer failed: code ${r.code} signal ${r.signal}`);
    const sizeAtKill = fs.existsSync(partial) ? fs.statSync(partial).size : 0;
    const a = sizeAtKill > 0 ? await analyzePartial(partial) : null;
    const durableBytes = a?.resumable ? a.durableBytes : 0;
    // Raw bytes in the blocks wholly on disk at the kill, from the reference file's index.
    const rawAtKill = info.blocks.filter((_b, i) => ends[i]! <= sizeAtKill).reduce((max, b) => Math.max(max, b.rawTotal), 0);
    const rec: KillRecord = {
      kill: kills.length + 1,
      sizeAtKill,
      durableBytes,
      rewritten: info.fileSize - durableBytes,
      remainder: info.fileSize - sizeAtKill,
      reread: info.rawBytes - (a?.resumable ? a.rawBytes : 0),
      rawRemainder: info.rawBytes - rawAtKill,
      blockOnDisk,
      blockRaw,
      ok: false,
    };
    rec.ok = rec.rewritten <= rec.remainder + blockOnDisk && rec.reread <= rec.rawRemainder + blockRaw;
    kills.push(rec);
    log(
      `kill ${rec.kill}: partial ${sizeAtKill} B, kept ${durableBytes} B; re-written ${rec.rewritten} B ` +
        `(remainder ${rec.remainder} B), re-read ${rec.reread} B (remainder ${rec.rawRemainder} B) ${rec.ok ? 'ok' : 'TOO MUCH'}`,
    );
  }
  // Finish the last interrupted snapshot.
  const last = await runWriter(target, o.entries, null);
  if (last.code !== 0) throw new Error(`final run failed (${last.code})`);
  finished += await checkFinished(target, refBytes, log);
  return { kills, finished };
}

/** A finished file must verify and equal the reference; it is removed for the next round. */
async function checkFinished(target: string, reference: Buffer, log: (line: string) => void): Promise<number> {
  await verifySnapshot(target);
  if (!fs.readFileSync(target).equals(reference)) throw new Error('resumed snapshot differs from the uninterrupted one');
  log('finished: verifies and equals the uninterrupted snapshot byte for byte');
  fs.rmSync(target);
  return 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  const opt = (name: string, fallback: string): string => option(args, name, fallback);
  const size = parseSize(opt('--size', '256m'));
  const result = await killResume({
    count: Number(opt('--count', '20')),
    entries: Math.ceil(size / 760),
    dir: opt('--dir', path.join(os.tmpdir(), 'snapstream-kill-resume')),
    seed: Number(opt('--seed', String(Date.now() % 100000))),
    log: (line) => process.stdout.write(`${line}\n`),
  });
  const bad = result.kills.filter((k) => !k.ok).length;
  process.stdout.write(`${result.kills.length} kills, ${result.finished} snapshots finished, ${bad} over the limit\n`);
  process.exitCode = bad > 0 ? 1 : 0;
}
