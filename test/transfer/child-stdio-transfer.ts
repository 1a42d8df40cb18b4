/**
 * The protocol runs over any duplex: here a child process sends a snapshot over its own stdin
 * and stdout, and the parent's server handles the pair as one stream (`server.handle`). The
 * received file is byte-identical, and the child reports success.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0xb886016b);

const MiB = 1024 * 1024;
const script = fileURLToPath(new URL('./fixtures/stdio-sender.ts', import.meta.url));

t.test("over a child process's stdin and stdout", async (t) => {
  const dir = t.testdir({ out: {} });
  const source = path.join(dir, 'src');
  const data = randomBytes(11 * MiB + 3);
  fs.writeFileSync(source, data);

  const child = spawn(process.execPath, [...process.execArgv, script, source, 'piped'], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const server = createSnapshotServer({ dir: path.join(dir, 'out') });
  const installed: unknown[] = [];
  server.on('installed', (e) => installed.push(e));
  server.on('transfer-error', (_i, err) => t.fail(`transfer error: ${(err as Error).message}`));
  await server.handle(Duplex.from({ readable: child.stdout!, writable: child.stdin! }));

  t.equal(installed.length, 1, 'installed');
  t.ok(fs.readFileSync(path.join(dir, 'out', 'piped')).equals(data), 'byte-identical');
  t.equal(await exited, 0, 'the sender exited cleanly');
  const result = JSON.parse(stderr.trim().split('\n').pop()!) as { bytes: number; connections: number };
  t.match(result, { bytes: data.length, connections: 1 });
});
