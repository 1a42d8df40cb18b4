#!/usr/bin/env node
/**
 * The `snapstream` command. Subcommands live in ./commands (one file per group); this file
 * dispatches, handles the global flags, and turns every error into a one-line message and a
 * documented exit code — never a stack trace.
 */
import { SnapstreamError } from '../errors.js';
import { parseArgs } from './args.js';
import type { Command } from './command.js';
import { filterCommands } from './commands/filters.js';
import { networkCommands } from './commands/network.js';
import { snapshotFileCommands } from './commands/snapshot-files.js';
import { s3Command, s3Usage } from './commands/s3.js';
import { storeCommand, storeUsage } from './commands/store.js';
import { runDemo } from './demo.js';
import { EXIT, exitCodeFor, UsageError } from './exit-codes.js';

const demo: Command = {
  usage: 'demo [--dir DIR] [--entries N]',
  summary: 'write, verify, read back, resume, send and restore a sample snapshot',
  flags: { passThrough: true },
  run: (args) => runDemo(args.positional),
};

const COMMANDS: Record<string, Command> = {
  ...filterCommands,
  ...snapshotFileCommands,
  ...networkCommands,
  store: storeCommand,
  s3: s3Command,
  demo,
};

function usage(): string {
  const lines = ['usage: snapstream <command> [options]   (global: --quiet, --json, --help)', '', 'commands:'];
  for (const c of Object.values(COMMANDS)) lines.push(`  ${c.usage}`, `      ${c.summary}`);
  lines.push('', 'store subcommands:', ...storeUsage.map((u) => `  ${u}`));
  lines.push('', 's3 subcommands (with --bucket B and the connection flags):', ...s3Usage.map((u) => `  ${u}`));
  lines.push('', 'exit codes: 0 ok, 1 failure, 2 usage, 3 corrupt or unverifiable data, 4 network, 5 authentication or refusal');
  return `${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const quiet = argv.includes('--quiet');
  const json = argv.includes('--json');
  const args = argv.filter((a) => a !== '--quiet' && a !== '--json');
  const [name, ...rest] = args;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return EXIT.OK;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) throw new UsageError(`unknown command: ${name}`);
  if (rest.includes('--help')) {
    process.stdout.write(`usage: snapstream ${command.usage}\n  ${command.summary}\n`);
    return EXIT.OK;
  }
  return command.run(parseArgs(rest, command.flags), { quiet, json });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const code = exitCodeFor(err);
    if (err instanceof UsageError) {
      process.stderr.write(`snapstream: ${err.message}\n\n${usage()}`);
    } else if (err instanceof SnapstreamError) {
      const where = [err.offset !== undefined ? `at byte ${err.offset}` : '', err.seq !== undefined ? `block/chunk ${err.seq}` : ''].filter(Boolean).join(', ');
      process.stderr.write(`snapstream: ${err.message}${where && !err.message.includes(`byte ${err.offset}`) ? ` (${where})` : ''} [${err.code}]\n`);
    } else {
      const e = err as NodeJS.ErrnoException;
      const what = e?.code === 'ENOENT' ? `no such file: ${e.path ?? ''}` : e?.code === 'ECONNREFUSED' ? `connection refused (${e.message})` : (e?.message ?? String(err));
      process.stderr.write(`snapstream: ${what}\n`);
    }
    process.exitCode = code;
  },
);
