/** What every subcommand is: its flags, a line of help, and a run function returning the exit code. */
import type { FlagSpec, ParsedArgs } from './args.js';

export interface CommandContext {
  /** `--quiet`: no progress bar. */
  quiet: boolean;
  /** `--json`: machine-readable results on stdout. */
  json: boolean;
}

export interface Command {
  /** The usage line, e.g. `compress [--codec zstd|lz4|none] [--level N]`. */
  usage: string;
  /** One line on what it does. */
  summary: string;
  flags: FlagSpec;
  run(args: ParsedArgs, ctx: CommandContext): Promise<number>;
}

/** Prints a result: JSON with `--json`, else the given lines. */
export function report(ctx: CommandContext, result: unknown, lines: string[]): void {
  process.stdout.write(ctx.json ? `${JSON.stringify(result)}\n` : `${lines.join('\n')}\n`);
}
