// `send` and `serve` do a delta transfer by default and say how many bytes it saved (the summary
// line and --json); --no-delta on either side sends the whole file.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { createSnapshotServer, sendSnapshot } from '../../lib/index.js';
import { distProblem, root } from '../fixtures/built-dist.js';
import { writeDeltaPair } from '../transfer/fixtures/delta-snapshots.js';

const cli = path.join(root, 'dist', 'cli', 'main.js');

t.test('dist is built from the current sources', async (t) => {
  t.equal(distProblem(), null);
});

async function pair(t: Tap.Test): Promise<{ dir: string; today: string; out: string }> {
  const dir = t.testdir({ out: {} });
  const yesterday = path.join(dir, 'yesterday');
  const today = path.join(dir, 'today');
  await writeDeltaPair(yesterday, today, 20_000);
  fs.copyFileSync(yesterday, path.join(dir, 'out', 'snap'));
  return { dir, today, out: path.join(dir, 'out') };
}

function send(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, 'send', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

t.test('send: a delta by default, the bytes saved in --json and the summary; --no-delta sends all', async (t) => {
  const { today, out } = await pair(t);
  const server = createSnapshotServer({ dir: out });
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());
  const size = fs.statSync(today).size;

  const json = await send([today, '--to', `127.0.0.1:${port}`, '--id', 'snap', '--json']);
  t.equal(json.code, 0, json.err);
  const result = JSON.parse(json.out) as { delta: boolean; savedBytes: number; sentBytes: number; wireBytes: number };
  t.equal(result.delta, true);
  t.ok(result.savedBytes > size * 0.9, `${result.savedBytes} of ${size} bytes saved`);
  t.ok(result.wireBytes < size * 0.15, `${result.wireBytes} bytes on the wire`);
  t.ok(fs.readFileSync(path.join(out, 'snap')).equals(fs.readFileSync(today)));

  fs.copyFileSync(today, path.join(out, 'other'));
  const text = await send([today, '--to', `127.0.0.1:${port}`, '--id', 'snap2']);
  t.equal(text.code, 0, text.err);
  t.match(text.out + text.err, /delta: .* \(9\d\.\d%\) taken from frames the receiver already had/);

  const full = await send([today, '--to', `127.0.0.1:${port}`, '--id', 'snap3', '--json', '--no-delta']);
  t.equal(full.code, 0, full.err);
  const plain = JSON.parse(full.out) as { delta: boolean; savedBytes: number; sentBytes: number };
  t.equal(plain.delta, false);
  t.equal(plain.savedBytes, 0);
  t.equal(plain.sentBytes, size);
});

t.test('serve: says what a delta saved; --no-delta takes the whole file', async (t) => {
  for (const flags of [[], ['--no-delta']]) {
    const { today, out } = await pair(t);
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const child = spawn(process.execPath, [cli, 'serve', '--dir', out, '--listen', `127.0.0.1:${port}`, '--json', ...flags], { stdio: ['ignore', 'pipe', 'inherit'] });
    const events: Record<string, unknown>[] = [];
    const waiting = new Map<string, () => void>();
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const e = JSON.parse(line) as Record<string, unknown>;
      events.push(e);
      waiting.get(e.event as string)?.();
    });
    const seen = (name: string): Promise<void> =>
      events.some((e) => e.event === name) ? Promise.resolve() : new Promise((resolve) => waiting.set(name, resolve));
    await seen('listening');
    const installed = seen('installed');
    const result = await sendSnapshot(today, () => net.connect(port, '127.0.0.1'), { id: 'snap' });
    await installed;
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    const e = events.find((x) => x.event === 'installed')!;
    if (flags.length === 0) {
      t.ok((e.savedBytes as number) > 0, `saved ${String(e.savedBytes)} bytes`);
      t.equal(e.savedBytes, result.copiedBytes);
    } else {
      t.equal(e.savedBytes, 0, '--no-delta: nothing saved');
      t.equal(result.sentBytes, fs.statSync(today).size);
    }
  }
});
