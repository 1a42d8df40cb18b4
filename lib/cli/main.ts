#!/usr/bin/env node
/**
 * The `snapstream` command. Subcommands live in ./commands (one file per group); this file
 * dispatches, handles the global flags, and turns every error into one line with its
 * `SNAP_ERR_*` code and a documented exit code — never a stack trace.
 */
import fs from 'node:fs';
import nodeModule from 'node:module';
import { IoError, NetworkError, NoSpaceError, SnapstreamError } from '../errors.js';
import { parseArgs, wantsHelp } from './args.js';
import { usageOf, withUsage, type Command } from './command.js';
import { EXIT, exitCodeFor, UsageError } from './exit-codes.js';

// Node >= 22.1 keeps V8's compiled code of the modules loaded from here on (each command's, below)
// on disk, so the next run skips compiling them. Node's own default place (NODE_COMPILE_CACHE, else
// a directory in os.tmpdir()), and nothing is lost but the cache if it cannot be used. The CLI
// only: a library must not change how its host process loads code.
try {
  (nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
} catch {
  // no cache: only slower
}

/**
 * Each group of commands is loaded only when one of its commands runs: a fresh process pays for
 * loading and compiling every module it imports, and `compress` has no use for the transfer,
 * store and S3 layers (docs/BENCHMARKS.md, "Data that does not compress").
 */
type Group = () => Promise<Record<string, Command>>;
const filters: Group = async () => (await import('./commands/filters.js')).filterCommands;
const snapshotFiles: Group = async () => (await import('./commands/snapshot-files.js')).snapshotFileCommands;
const network: Group = async () => (await import('./commands/network.js')).networkCommands;
const store: Group = async () => ({ store: (await import('./commands/store.js')).storeCommand });
const s3: Group = async () => ({ s3: (await import('./commands/s3.js')).s3Command });
const demo: Group = async () => ({
  demo: {
    usage: 'demo [--dir DIR] [--entries N]',
    summary: 'write, verify, read back, resume, send and restore a sample snapshot',
    flags: { passThrough: true },
    run: async (args, ctx) => (await import('./demo.js')).runDemo(args.positional, { quiet: ctx.quiet }),
  },
});

/** Every command, in the order `--help` lists them, and the group that holds it. */
const COMMAND_GROUPS: Readonly<Record<string, Group>> = {
  encode: filters,
  decode: filters,
  compress: filters,
  decompress: filters,
  crc: filters,
  verify: filters,
  chunk: filters,
  dechunk: filters,
  pack: snapshotFiles,
  unpack: snapshotFiles,
  inspect: snapshotFiles,
  send: network,
  serve: network,
  receive: network,
  store,
  s3,
  demo,
};

/** The command called `name`, loading its group; undefined for no such command. */
async function commandNamed(name: string): Promise<Command | undefined> {
  const group = Object.hasOwn(COMMAND_GROUPS, name) ? COMMAND_GROUPS[name] : undefined;
  return group ? (await group())[name] : undefined;
}

const GLOBAL = 'global options, anywhere on the line: --quiet (only errors), --json (results as JSON), -h/--help, -V/--version';

/** The whole usage text: every command's group is loaded for it. */
async function usage(): Promise<string> {
  const lines = ['usage: snapstream <command> [options]', `  ${GLOBAL}`, '', 'commands:'];
  for (const name of Object.keys(COMMAND_GROUPS)) {
    const c = (await commandNamed(name))!;
    lines.push(`  ${c.usage}`, `      ${c.summary}`);
  }
  const [{ storeUsage }, { s3Usage }] = await Promise.all([import('./commands/store.js'), import('./commands/s3.js')]);
  lines.push('', 'store subcommands:', ...storeUsage.map((u) => `  ${u}`));
  lines.push('', 's3 subcommands (with --bucket B and the connection flags):', ...s3Usage.map((u) => `  ${u}`));
  lines.push('', 'exit codes: 0 ok, 1 failure, 2 usage or bad input, 3 corrupt or unverifiable data, 4 network, 5 authentication or refusal, 130 interrupted');
  return `${lines.join('\n')}\n`;
}

/** What an unknown command gets: the command names, not 60 lines. */
function shortUsage(): string {
  return `usage: snapstream <command> [options]\n  commands: ${Object.keys(COMMAND_GROUPS).join(', ')}\n  snapstream --help describes them all; snapstream COMMAND --help one\n`;
}

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const end = argv.indexOf('--');
  const globalPart = end < 0 ? argv : argv.slice(0, end);
  const quiet = globalPart.includes('--quiet');
  const json = globalPart.includes('--json');
  const args = [...globalPart.filter((a) => a !== '--quiet' && a !== '--json'), ...(end < 0 ? [] : argv.slice(end))];
  const [name, ...rest] = args;
  if (name === '--version' || name === '-V') {
    process.stdout.write(json ? `${JSON.stringify({ version: version() })}\n` : `snapstream ${version()}\n`);
    return EXIT.OK;
  }
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(await usage());
    return EXIT.OK;
  }
  if (name === 'help') {
    const topic = rest[0];
    const command = topic !== undefined ? await commandNamed(topic) : undefined;
    process.stdout.write(command ? usageOf(topic!, command, rest.slice(1)) : await usage());
    return EXIT.OK;
  }
  const command = await commandNamed(name);
  if (!command) {
    const err = new UsageError(`unknown command: ${name}`);
    err.usage = shortUsage();
    throw err;
  }
  if (wantsHelp(rest)) {
    process.stdout.write(usageOf(name, command, rest.filter((a) => a !== '-h' && a !== '--help')));
    return EXIT.OK;
  }
  return withUsage(usageOf(name, command, rest), () => command.run(parseArgs(rest, command.flags), { quiet, json }));
}

/** Any error as a SnapstreamError: system errors get their code (IO, NO_SPACE, NETWORK). */
function asSnapstreamError(err: unknown): SnapstreamError | null {
  if (err instanceof SnapstreamError) return err;
  const e = err as NodeJS.ErrnoException | null;
  if (!e || typeof e !== 'object' || typeof e.code !== 'string') return null;
  if (e.code === 'ECONNREFUSED') return new NetworkError(`connection refused (${e.message})`, { cause: err });
  if (e.code === 'ECONNRESET' || e.code === 'ETIMEDOUT' || e.code === 'EHOSTUNREACH' || e.code === 'ENOTFOUND') {
    return new NetworkError(e.message, { cause: err });
  }
  if (e.code === 'ENOSPC' || e.code === 'EDQUOT') return new NoSpaceError(`no space left on device${e.path ? `: ${e.path}` : ''}`, { cause: err });
  if (e.code === 'ENOENT') return new IoError(`no such file: ${e.path ?? e.message}`, { cause: err });
  if (e.syscall !== undefined || e.errno !== undefined) return new IoError(e.message, { cause: err });
  return null;
}

/** The error as the user sees it: one line, then the usage of the command for a usage error. */
function describe(err: unknown): { text: string; code: number } {
  const typed = asSnapstreamError(err);
  if (!typed) {
    const message = (err as Error | null)?.message ?? String(err);
    return { text: `snapstream: internal error: ${message} (please report it)\n`, code: EXIT.FAILURE };
  }
  const where = [typed.offset !== undefined && !typed.message.includes(`byte ${typed.offset}`) ? `at byte ${typed.offset}` : '', typed.seq !== undefined ? `block/chunk ${typed.seq}` : '']
    .filter(Boolean)
    .join(', ');
  let text = `snapstream: ${typed.message}${where ? ` (${where})` : ''} [${typed.code}]\n`;
  const hint = (err as { hint?: unknown }).hint;
  if (typeof hint === 'string') text += `snapstream: ${hint}\n`;
  if (typed instanceof UsageError) text += `\n${typed.usage ?? shortUsage()}`;
  return { text, code: exitCodeFor(typed) };
}

function fail(err: unknown): void {
  // Whoever read our output went away (`| head`): the tool's usual quiet end, not a failure.
  // (Sockets' EPIPE reach here as NetworkError, never raw.)
  if ((err as NodeJS.ErrnoException | null)?.code === 'EPIPE') return;
  // Interrupted by SIGINT or SIGTERM (the command cleaned up): the shell's usual 128 + 2.
  if ((err as NodeJS.ErrnoException | null)?.code === 'ABORT_ERR') {
    process.stderr.write('snapstream: interrupted\n');
    process.exitCode = EXIT.INTERRUPTED;
    return;
  }
  const { text, code } = describe(err);
  process.stderr.write(text);
  process.exitCode = code;
}

// The last line of defence: an error no promise caught (an 'error' event nobody listens to) is
// still one line and an exit code, never Node's stack trace.
process.on('uncaughtException', (err) => {
  fail(err);
  process.exit();
});
process.on('unhandledRejection', (err) => {
  fail(err);
  process.exit();
});

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, fail);
