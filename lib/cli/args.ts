/** A small, strict option parser: unknown flags are usage errors, values are checked. */
import { UsageError } from './exit-codes.js';

export interface FlagSpec {
  /** Flags that take a value, e.g. `--dir`. */
  values?: string[];
  /** Flags that are switches, e.g. `--quiet`. */
  switches?: string[];
  /** Take every argument as positional (a command with subcommands parses them itself). */
  passThrough?: boolean;
}

export interface ParsedArgs {
  values: Map<string, string>;
  switches: Set<string>;
  positional: string[];
}

export function parseArgs(args: string[], spec: FlagSpec): ParsedArgs {
  const values = new Map<string, string>();
  const switches = new Set<string>();
  const positional: string[] = [];
  if (spec.passThrough) return { values, switches, positional: [...args] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--') || arg === '--') {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (spec.switches?.includes(name)) {
      if (eq > 0) throw new UsageError(`${name} takes no value`);
      switches.add(name);
    } else if (spec.values?.includes(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      values.set(name, value);
    } else {
      throw new UsageError(`unknown option: ${name}`);
    }
  }
  return { values, switches, positional };
}

/** A positive integer option value. */
export function intOption(parsed: ParsedArgs, name: string, fallback: number): number {
  const raw = parsed.values.get(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${name} must be a positive integer, got ${raw}`);
  return n;
}
