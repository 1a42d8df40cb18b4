/** What every subcommand is: its flags, a line of help, and a run function returning the exit code. */
import type { FlagSpec, ParsedArgs } from './args.js';
import { UsageError } from './exit-codes.js';

export interface CommandContext {
  /** `--quiet`: nothing but errors (no progress, no summary lines; `--json` results still print). */
  quiet: boolean;
  /** `--json`: machine-readable results on stdout, progress as JSON lines on stderr. */
  json: boolean;
}

export interface Command {
  /** The usage line, e.g. `compress [--codec zstd|lz4|none] [--level N]`. */
  usage: string;
  /** One line on what it does. */
  summary: string;
  flags: FlagSpec;
  /**
   * For a command with subcommands: the usage text for the arguments given (the subcommand's
   * own when one is named, else the list). Without it, `usage` and `summary` are shown.
   */
  help?(args: readonly string[]): string;
  run(args: ParsedArgs, ctx: CommandContext): Promise<number>;
}

/** Prints a result: JSON with `--json`, else the given lines (nothing with `--quiet`). */
export function report(ctx: CommandContext, result: unknown, lines: string[]): void {
  if (ctx.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else if (!ctx.quiet) process.stdout.write(`${lines.join('\n')}\n`);
}

/** The usage text of a command, as `-h` prints it and a usage error ends with. */
export function usageOf(name: string, command: Command, args: readonly string[] = []): string {
  if (command.help) return command.help(args);
  return `usage: snapstream ${command.usage}\n  ${command.summary}\n`;
}

/** Runs `fn`; a usage error it throws that names no usage yet gets `usage`. */
export async function withUsage<T>(usage: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof UsageError && err.usage === undefined) err.usage = usage;
    throw err;
  }
}

/** A named subcommand (of `store`, `s3`), looked up as an own property only. */
export function lookup<T>(table: Record<string, T>, name: string | undefined): T | undefined {
  return name !== undefined && Object.hasOwn(table, name) ? table[name] : undefined;
}

/** Adds a line of advice (how to resume, say) that the CLI prints after the error's own line. */
export function withHint(err: unknown, hint: string): unknown {
  if (err && typeof err === 'object') (err as { hint?: string }).hint = hint;
  return err;
}
