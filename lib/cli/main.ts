#!/usr/bin/env node
/**
 * The `snapstream` command. Subcommands live one per file in this folder; this file only
 * dispatches and turns errors into messages and exit codes (never a stack trace).
 */
import { SnapstreamError, isCorruptionError } from '../errors.js';
import { runDemo } from './demo.js';
import { EXIT, UsageError } from './exit-codes.js';

const USAGE = `usage: snapstream <command> [options]

commands:
  demo [--dir DIR] [--entries N]   write, verify and read back a sample snapshot
  help                             show this help
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'demo':
      return runDemo(args);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return EXIT.OK;
    default:
      throw new UsageError(`unknown command: ${command}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`snapstream: ${err.message}\n\n${USAGE}`);
      process.exitCode = EXIT.USAGE;
    } else if (err instanceof SnapstreamError) {
      process.stderr.write(`snapstream: ${err.message} [${err.code}]\n`);
      process.exitCode = isCorruptionError(err) ? EXIT.CORRUPT : EXIT.FAILURE;
    } else {
      process.stderr.write(`snapstream: ${(err as Error)?.message ?? String(err)}\n`);
      process.exitCode = EXIT.FAILURE;
    }
  },
);
