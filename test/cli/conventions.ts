// The command-line conventions people expect: --version / -V, -h and --help on every command
// (and subcommand), a usage error that shows that command's usage only, natural edge values
// (--retries 0), --quiet leaving only errors, --json giving one JSON object, "1 entry".
import t from 'tap';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { distProblem, root } from '../fixtures/built-dist.js';

const cli = path.join(root, 'dist', 'cli', 'main.js');

function run(args: string[], input: Buffer | string = '', cwd?: string) {
  const r = spawnSync(process.execPath, [cli, ...args], { input, encoding: 'utf8', timeout: 60_000, ...(cwd ? { cwd } : {}) });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The same without blocking, so that many can run at once. */
function runAsync(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { timeout: 60_000 }, (error, out, err) =>
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, out, err }),
    );
  });
}

const COMMANDS = ['encode', 'decode', 'compress', 'decompress', 'crc', 'verify', 'chunk', 'dechunk', 'pack', 'unpack', 'inspect', 'send', 'serve', 'receive', 'store', 's3', 'demo'];

t.test('dist is built from the current sources', async (t) => {
  t.equal(distProblem(), null);
});

t.test('--version and -V print the package version', async (t) => {
  const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const r = run([flag]);
    t.equal(r.code, 0);
    t.equal(r.out, `snapstream ${version}\n`);
    t.equal(r.err, '');
  }
  t.same(JSON.parse(run(['--json', '--version']).out), { version });
});

t.test('-h and --help on every command: its own usage, exit 0', async (t) => {
  const lines = COMMANDS.flatMap((name) => (['pack', 'store', 'verify'].includes(name) ? ['-h', '--help'] : ['-h']).map((flag) => [name, flag]));
  const results = await Promise.all(lines.map((args) => runAsync(args)));
  lines.forEach(([name, flag], i) => {
    const r = results[i]!;
    t.equal(r.code, 0, `${name} ${flag}`);
    t.match(r.out, new RegExp(`^usage: snapstream ${name}\\b`), `${name} ${flag}: its usage`);
    t.notMatch(r.out, /commands:/, 'not the whole list');
  });
  t.match(run(['pack', 'out.snap', '-h']).out, /^usage: snapstream pack FILE/, 'anywhere on the line');
  t.match(run(['store', 'restore', '-h']).out, /^usage: snapstream store restore --dir DIR/, 'a store subcommand');
  t.match(run(['s3', 'put', '--help']).out, /^usage: snapstream s3 put FILE .*--bucket B/, 'an s3 subcommand');
  t.match(run(['help', 'inspect']).out, /^usage: snapstream inspect FILE/);
  t.match(run(['--help']).out, /commands:[\s\S]*pack FILE[\s\S]*exit codes/, 'snapstream --help lists them all');
});

t.test('a usage error shows that command\'s usage only, exit 2', async (t) => {
  const cases: [string[], RegExp, RegExp][] = [
    [['compress', '--colour', 'blue'], /unknown option: --colour/, /^usage: snapstream compress /m],
    [['send', 'x.snap', '--to', '127.0.0.1:1', '--retries', 'many'], /--retries must be a whole number/, /^usage: snapstream send FILE/m],
    [['pack'], /pack needs a FILE/, /^usage: snapstream pack FILE/m],
    [['store', 'restore', '--dir', '.'], /give one of --to-dir/, /^usage: snapstream store restore --dir DIR/m],
    [['decompress', 'file.zst'], /decompress reads standard input and takes no FILE/, /^usage: snapstream decompress/m],
  ];
  for (const [args, message, usage] of cases) {
    const r = run(args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.err, new RegExp(`^snapstream: ${message.source}.*\\[SNAP_ERR_INVALID_ARGUMENT\\]\\n`), 'one line with the code first');
    t.match(r.err, usage, 'that command\'s usage');
    t.equal(r.err.match(/usage: /g)?.length, 1, 'and no other');
    t.ok(r.err.split('\n').length < 8, 'a few lines, not the 60 of every command');
  }
  const unknown = run(['frobnicate']);
  t.equal(unknown.code, 2);
  t.match(unknown.err, /^snapstream: unknown command: frobnicate \[SNAP_ERR_INVALID_ARGUMENT\]\n\nusage: snapstream <command>[\s\S]*commands: encode, decode/);
});

t.test('store toString (an inherited name) is an unknown subcommand, not a crash', async (t) => {
  const cases = ['toString', 'constructor', '__proto__', 'hasOwnProperty'].flatMap((name) => ['store', 's3'].map((group) => [group, name] as const));
  const results = await Promise.all(cases.map(([group, name]) => runAsync([group, name, '--dir', '.'])));
  cases.forEach(([group, name], i) => {
    const r = results[i]!;
    t.equal(r.code, 2, `${group} ${name}`);
    t.match(r.err, new RegExp(`^snapstream: unknown ${group} subcommand: ${name} \\[SNAP_ERR_INVALID_ARGUMENT\\]`));
    t.notMatch(r.err, /Cannot read|\n\s+at /);
  });
});

t.test('--retries 0 is accepted: one attempt, then the network error (exit 4, not 2)', async (t) => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  const file = path.join(t.testdir({ 'x.bin': 'hello' }), 'x.bin');
  const r = run(['send', file, '--to', `127.0.0.1:${port}`, '--retries', '0', '--rate-limit', '0']);
  t.equal(r.code, 4, r.err);
  t.match(r.err, /^snapstream: connection (refused|failed).*ECONNREFUSED.*\[SNAP_ERR_NETWORK\]\n$/);
});

t.test('--quiet anywhere leaves only errors; --json one object on stdout; plurals', async (t) => {
  const dir = t.testdir();
  const one = '{"key":"a","value":"b"}\n';
  for (const args of [['pack', 'q1.snap', '--quiet'], ['--quiet', 'pack', 'q2.snap'], ['pack', '--quiet', 'q3.snap']]) {
    const r = run(args, one, dir);
    t.equal(r.code, 0);
    t.equal(r.out + r.err, '', `${args.join(' ')}: silent`);
  }
  const demo = run(['--quiet', 'demo', '--entries', '2000', '--dir', path.join(dir, 'demo')]);
  t.equal(demo.code, 0, demo.err);
  t.equal(demo.out + demo.err, '', 'the demo too');
  const said = run(['pack', 'p.snap'], one, dir);
  // 195 bytes: the block header carries the frame's 16-byte digest (docs/FORMAT.md 3.5).
  t.equal(said.out, 'p.snap: 1 entry, 195 B in 1 block\n', 'singular');
  const inspect = run(['inspect', path.join(dir, 'p.snap')]);
  t.match(inspect.out, /entries +1 in 1 block\n/);
  const quietFailure = run(['--quiet', 'inspect', path.join(dir, 'missing.snap')]);
  t.equal(quietFailure.code, 1);
  t.match(quietFailure.err, /^snapstream: .*missing\.snap.*\[SNAP_ERR_IO\]\n$/, 'errors still shown');

  // Every command that prints a summary gives one JSON object with --json.
  const summaries: [string[], string, Record<string, unknown>][] = [
    [['pack', 'j.snap'], one, { path: 'j.snap', entries: 1, blocks: 1 }],
    [['inspect', 'j.snap', '--verify'], '', { entries: 1, verified: true }],
    [['verify', 'j.snap'], '', { path: 'j.snap', verified: true }],
    [['compress', 'j.snap', 'j.zst'], '', { path: 'j.zst', bytesIn: 195 }],
  ];
  for (const [args, input, want] of summaries) {
    const r = run(['--json', ...args], input, dir);
    t.equal(r.code, 0, `${args[0]}: ${r.err}`);
    const lines = r.out.trim().split('\n');
    t.equal(lines.length, 1, `${args[0]}: one line`);
    t.match(JSON.parse(lines[0]!), want, `${args[0]} --json`);
  }
});
