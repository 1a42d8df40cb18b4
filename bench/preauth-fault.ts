/**
 * Fault run: hostile clients that never authenticate, against a snapshot server in a child
 * process (its RSS read from /proc/PID/status, so it is the server's alone).
 *
 * 1. `--count` connections (default 100) each send a chunk header announcing `--chunk` bytes
 *    (default 16 MiB) and then the data, without HELLO. The server's RSS must stay within 100 MB
 *    of its idle RSS, during the attack and after it.
 * 2. `--stalled` connections (default 16) say HELLO and never AUTH, as many more say nothing;
 *    a legitimate sender (with the secret) must still get its `--size` file (default 64 MiB)
 *    through while they are all still open.
 *
 *   npm run fault:preauth -- --count 100 --chunk 16m --stalled 16
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { sendSnapshot } from 'snapstream';
import { option, parseSize } from './bench-args.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => option(args, name, fallback);
const count = Number(opt('--count', '100'));
const chunk = parseSize(opt('--chunk', '16m'));
const stalledCount = Number(opt('--stalled', '16'));
const size = parseSize(opt('--size', '64m'));
const SECRET = 'preauth-fault-secret';
const MB = 1024 * 1024;

/** A chunk header as a sender would write it (lib/format/chunk-frame.ts), announcing `length` bytes. */
function chunkHeader(length: number): Buffer {
  const h = Buffer.alloc(32);
  h.writeUInt32LE(0x4b434e53, 0);
  h[4] = 1;
  h.writeUInt32LE(0, 8);
  h.writeBigUInt64LE(0n, 12);
  h.writeUInt32LE(length, 20);
  h.writeUInt32LE(0, 24);
  h.writeUInt32LE(zlib.crc32(h.subarray(0, 28)), 28);
  return h;
}

/** A control message (docs/PROTOCOL.md). */
function message(type: number, body: Record<string, unknown>): Buffer {
  const payload = Buffer.from(JSON.stringify(body));
  const h = Buffer.alloc(20);
  h.writeUInt32LE(0x4d504e53, 0);
  h[4] = type;
  h.writeUInt32LE(payload.length, 8);
  h.writeUInt32LE(zlib.crc32(payload), 12);
  h.writeUInt32LE(zlib.crc32(h.subarray(0, 16)), 16);
  return Buffer.concat([h, payload]);
}

/** The messages in what a server sent: `[type, body]`. */
function messages(data: Buffer): [number, Record<string, unknown>][] {
  const out: [number, Record<string, unknown>][] = [];
  for (let at = 0; at + 20 <= data.length; ) {
    const length = data.readUInt32LE(at + 8);
    if (at + 20 + length > data.length) break;
    out.push([data[at + 4]!, JSON.parse(data.subarray(at + 20, at + 20 + length).toString()) as Record<string, unknown>]);
    at += 20 + length;
  }
  return out;
}

function rssMB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function startServer(dir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [path.join(here, 'preauth-server.js'), dir, SECRET], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d: Buffer): void => {
      text += d;
      const line = text.indexOf('\n');
      if (line < 0) return;
      child.stdout!.off('data', onData);
      resolve({ child, port: Number(text.slice(0, line)) });
    };
    child.stdout!.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the server exited with ${code}`)));
  });
}

async function stopServer(child: ChildProcess): Promise<Record<string, number>> {
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d));
  child.removeAllListeners('exit');
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  return (JSON.parse(text.trim().split('\n').pop() ?? '{}') as { refused?: Record<string, number> }).refused ?? {};
}

/** One attacker: chunk header and data, no HELLO. Resolves with the code of the REFUSE it got, or 'closed'. */
function attacker(port: number, junk: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    socket.on('connect', () => {
      socket.write(chunkHeader(junk.length));
      socket.write(junk); // the same buffer for every attacker: no copy on this side
    });
    socket.on('data', (d: Buffer) => got.push(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      const refuse = messages(Buffer.concat(got)).find(([type]) => type === 5);
      resolve(refuse ? String(refuse[1].code) : 'closed');
    });
  });
}

/** A connection that says HELLO, takes its CHALLENGE and then says nothing; or (hello false) says nothing at all. */
function stalled(port: number, hello: boolean): Promise<{ socket: net.Socket; answers: () => number[] }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    const answers = (): number[] => messages(Buffer.concat(got)).map(([type]) => type);
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => {
      got.push(d);
      if (hello && answers().includes(2)) resolve({ socket, answers });
    });
    socket.once('connect', () => {
      if (!hello) return resolve({ socket, answers });
      socket.write(message(1, { version: 1, id: 'victim', size, meta: {}, nonce: 'n' }));
    });
    // Closed before its time (refused, say): the count of those still open shows it.
    socket.once('close', () => resolve({ socket, answers }));
  });
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapstream-preauth-'));
let server: ChildProcess | null = null;
try {
  const { child, port } = await startServer(path.join(dir, 'in'));
  server = child;
  await new Promise((resolve) => setTimeout(resolve, 500));
  const idle = rssMB(child.pid!);

  // 1. The attack.
  const junk = Buffer.alloc(chunk, 0x5a);
  let peak = idle;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMB(child.pid!))), 10);
  const started = performance.now();
  const outcomes = await Promise.all(Array.from({ length: count }, () => attacker(port, junk)));
  const attackSeconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, rssMB(child.pid!));
  await new Promise((resolve) => setTimeout(resolve, 500));
  const after = rssMB(child.pid!);
  const answers: Record<string, number> = {};
  for (const o of outcomes) answers[o] = (answers[o] ?? 0) + 1;

  // 2. Stalled handshakes and a legitimate sender.
  const source = path.join(dir, 'src');
  const fd = fs.openSync(source, 'w');
  for (let at = 0; at < size; at += MB) fs.writeSync(fd, Buffer.alloc(Math.min(MB, size - at), at & 0xff));
  fs.closeSync(fd);
  const held = [
    ...(await Promise.all(Array.from({ length: stalledCount }, () => stalled(port, true)))),
    ...(await Promise.all(Array.from({ length: stalledCount }, () => stalled(port, false)))),
  ];
  const sendStarted = performance.now();
  const sent = await sendSnapshot(source, () => net.connect(port, '127.0.0.1'), { id: 'victim', secret: SECRET }).then(
    (r) => ({ ok: true, bytes: r.bytes, connections: r.connections, error: undefined as string | undefined }),
    (e: Error) => ({ ok: false, bytes: 0, connections: 0, error: e.message }),
  );
  const sendSeconds = (performance.now() - sendStarted) / 1000;
  const stillOpen = held.filter((h) => !h.socket.destroyed && !h.answers().includes(5)).length;
  held.forEach((h) => h.socket.destroy());
  const installed = fs.existsSync(path.join(dir, 'in', 'victim')) && fs.statSync(path.join(dir, 'in', 'victim')).size === size;
  const refused = await stopServer(child);

  const growth = Math.max(peak, after) - idle;
  console.log(`pre-auth flood: ${count} connections × ${(chunk / MB).toFixed(0)} MiB chunk header + data, no HELLO (${attackSeconds.toFixed(2)} s)`);
  console.log(`  server RSS idle ${idle.toFixed(0)} MB, peak ${peak.toFixed(0)} MB, after ${after.toFixed(0)} MB: +${growth.toFixed(0)} MB (limit +100 MB)`);
  console.log(`  answers: ${Object.entries(answers).map(([k, v]) => `${v} ${k}`).join(', ')}`);
  console.log(`stalled: ${stalledCount} HELLO without AUTH + ${stalledCount} silent; legitimate sender (${(size / MB).toFixed(0)} MiB, with the secret):`);
  console.log(`  ${sent.ok ? `got through in ${sendSeconds.toFixed(2)} s (${sent.connections} connection(s))` : `FAILED: ${sent.error}`}, installed: ${installed}; stalled still open then: ${stillOpen}/${held.length}`);
  console.log(`  server refusals: ${JSON.stringify(refused)}`);
  const pass = growth <= 100 && sent.ok && installed && stillOpen === held.length;
  console.log(JSON.stringify({ count, chunkBytes: chunk, idleMB: idle, peakMB: peak, afterMB: after, growthMB: growth, answers, stalled: stalledCount * 2, sendOk: sent.ok, sendSeconds, stillOpen, refused, pass }));
  if (!pass) process.exitCode = 1;
} finally {
  if (server && server.exitCode === null) server.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
}
