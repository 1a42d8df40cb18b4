/**
 * A receiver process killed with SIGKILL in the middle of a transfer, and started again on the
 * same directory and port, resumes from what its partial file holds (everything it had
 * acknowledged, at least): the sender, reconnecting through its connection factory, carries on
 * from there, sends at most one window again, and the installed file is byte-identical. Run
 * with the partial written with O_DIRECT (the default: bytes staged in the receiver's memory
 * are lost to the kill, never acknowledged) and through the page cache.
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import { seededRandomBytes } from '../fixtures/random.js';
import { directIoWorks } from '../fixtures/direct-io.js';

const randomBytes = seededRandomBytes(t, 0xd4e227b1);

const MiB = 1024 * 1024;
const script = fileURLToPath(new URL('./fixtures/server-process.ts', import.meta.url));

type Event = { event: string; [k: string]: unknown };

function startServer(dir: string, port: number, direct: boolean): { child: ChildProcess; events: Event[]; next: (name: string) => Promise<Event> } {
  const child = spawn(process.execPath, [...process.execArgv, script, dir, String(port), ...(direct ? [] : ['--no-direct'])], { stdio: ['ignore', 'pipe', 'inherit'] });
  const events: Event[] = [];
  const waiters: { name: string; resolve: (e: Event) => void }[] = [];
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    const e = JSON.parse(line) as Event;
    events.push(e);
    const w = waiters.find((w) => w.name === e.event);
    if (w) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(e);
    }
  });
  // The first `name` event not yet taken (past or future).
  const taken = new Set<Event>();
  const next = (name: string): Promise<Event> =>
    new Promise<Event>((resolve) => {
      const seen = events.find((e) => e.event === name && !taken.has(e));
      if (seen) resolve(seen);
      else waiters.push({ name, resolve });
    }).then((e) => (taken.add(e), e));
  return { child, events, next };
}

for (const direct of [true, false]) t.test(`SIGKILL the receiver mid-transfer; restarted, it resumes from its partial (${direct ? 'O_DIRECT' : 'page cache'})`, async (t) => {
  const dir = t.testdir({ out: {} });
  const out = path.join(dir, 'out');
  const source = path.join(dir, 'src');
  const data = randomBytes(64 * MiB);
  fs.writeFileSync(source, data);

  const first = startServer(out, 0, direct);
  t.teardown(() => first.child.kill('SIGKILL'));
  const port = (await first.next('listening')).port as number;

  const sending = sendSnapshot(source, () => net.connect(port, '127.0.0.1'), {
    id: 'snap',
    fixedChunkSize: true,
    window: 4,
    retries: 30,
    rateLimit: 40 * MiB, // slow enough to be killed part way
  });
  sending.catch(() => {});

  t.equal((await first.next('start')).direct, direct && directIoWorks(out), direct ? 'written with O_DIRECT (where the file system takes it)' : 'written through the page cache');
  // Kill it once it has acknowledged 24 MiB.
  let acked = 0;
  await new Promise<void>((resolve) => {
    first.child.stdout!.on('data', () => {
      const progress = first.events.filter((e) => e.event === 'progress');
      acked = Math.max(0, ...progress.map((e) => e.bytes as number));
      if (acked >= 24 * MiB) resolve();
    });
  });
  first.child.kill('SIGKILL');
  await new Promise((resolve) => first.child.once('exit', resolve));
  const held = fs.statSync(path.join(out, 'snap.partial')).size;
  t.ok(held >= acked, `the partial holds ${held} B, at least the ${acked} B acknowledged`);
  t.ok(held < data.length, 'killed part way');
  t.notOk(fs.existsSync(path.join(out, 'snap')));

  const second = startServer(out, port, direct);
  t.teardown(() => second.child.kill('SIGKILL'));
  t.equal((await second.next('listening')).port, port, 'the restarted receiver listens on the same port');
  const start = await second.next('start');
  t.equal(start.offset, held, 'it resumes from the offset its partial holds');

  const result = await sending;
  t.same(result.resumes, [held], 'the sender carried on from there');
  t.ok(result.resentBytes <= 4 * 4 * MiB, `at most one window sent again (${result.resentBytes} B)`);
  t.equal(result.sentBytes, data.length + result.resentBytes);
  t.equal((await second.next('installed')).bytes, data.length);
  t.ok(fs.readFileSync(path.join(out, 'snap')).equals(data), 'the installed file is byte-identical');
  t.notOk(fs.existsSync(path.join(out, 'snap.partial')));
  const secondProgress = second.events.filter((e) => e.event === 'progress').map((e) => e.bytes as number);
  t.ok(secondProgress.length > 0 && secondProgress[0]! > held, 'the second receiver wrote only what came after');
});
