/**
 * `snapstream serve --max-handshakes N --handshake-timeout MS` reach the server: with one
 * handshake allowed, a second unauthenticated connection is refused SNAP_ERR_BUSY while the first
 * is stalled after its HELLO; the stalled one is then refused SNAP_ERR_TIMEOUT, naming the
 * deadline given on the command line. Bad values are usage errors (exit 2).
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { connect } from '../transfer/fixtures/raw-client.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = path.join(root, 'dist', 'cli', 'main.js');

t.test('--max-handshakes and --handshake-timeout set the server limits', async (t) => {
  const dir = t.testdir();
  const child = spawn(
    process.execPath,
    [cli, 'serve', '--dir', dir, '--listen', '127.0.0.1:0', '--json', '--max-handshakes', '1', '--handshake-timeout', '1234', '--idle-timeout', '60000'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let gone = false;
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const events = readline.createInterface({ input: child.stdout! });
  const lines: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  events.on('line', (line) => {
    lines.push(JSON.parse(line) as Record<string, unknown>);
    waiters.splice(0).forEach((w) => w());
  });
  void exited.then(() => {
    gone = true;
    waiters.splice(0).forEach((w) => w());
  });
  const next = async (event: string): Promise<Record<string, unknown>> => {
    for (;;) {
      const found = lines.find((l) => l.event === event);
      if (found) {
        lines.splice(lines.indexOf(found), 1);
        return found;
      }
      if (gone) throw new Error(`serve exited before a ${event} event`);
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };

  const { address } = (await next('listening')) as { address: string };
  const port = Number(address.split(':').pop());

  const first = await connect(port);
  await first.send('HELLO', { version: 1, id: 'a', size: 10, meta: {}, nonce: 'n' });
  await first.expect(['CHALLENGE'], 30_000); // the first now holds the one handshake place
  const second = await connect(port);
  t.match(await second.expect(['REFUSE'], 30_000), { body: { code: 'SNAP_ERR_BUSY', retry: true } }, 'one handshake at a time');
  second.destroy();
  t.match(await next('refused'), { code: 'SNAP_ERR_BUSY' });

  const refusal = await first.expect(['REFUSE'], 30_000);
  t.match(refusal, { body: { code: 'SNAP_ERR_TIMEOUT', message: /within the 1234 ms handshake timeout/ } }, 'the deadline given');
  first.destroy();

  child.kill('SIGTERM');
  t.equal(await exited, 0, 'serve exits 0 on SIGTERM');
});

t.test('bad values are usage errors', async (t) => {
  for (const [flag, value] of [
    ['--max-handshakes', '0'],
    ['--handshake-timeout', 'soon'],
  ] as const) {
    const r = spawnSync(process.execPath, [cli, 'serve', '--dir', t.testdir(), '--listen', '127.0.0.1:0', flag, value], { encoding: 'utf8', timeout: 60_000 });
    t.equal(r.status, 2, `${flag} ${value}: exit 2`);
    t.match(r.stderr, new RegExp(`${flag} must be a positive integer`));
  }
});
