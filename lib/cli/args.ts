/** A small, strict option parser: unknown flags are usage errors, values are checked. */
import { UsageError } from './exit-codes.js';

export interface FlagSpec {
  /** Flags that take a value, e.g. `--dir`. */
  values?: string[];
  /** Flags that are switches, e.g. `--blocks`. */
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
    if (arg === '--') {
      // Everything after `--` is positional, even what looks like a flag.
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-' || /^-\d/.test(arg)) {
      positional.push(arg);
      continue;
    }
    if (!arg.startsWith('--')) throw new UsageError(`unknown option: ${arg}`);
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

/** True when `-h` or `--help` is on the line (before any `--`). */
export function wantsHelp(args: readonly string[]): boolean {
  for (const a of args) {
    if (a === '--') return false;
    if (a === '-h' || a === '--help') return true;
  }
  return false;
}

/**
 * An integer option value of at least `min` (default 1: a count or a size; 0 where zero means
 * something, such as `--retries 0`).
 */
export function intOption(parsed: ParsedArgs, name: string, fallback: number, min = 1): number {
  const raw = parsed.values.get(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isSafeInteger(n) || n < min) {
    const what = min === 0 ? 'a whole number (0 or more)' : min === 1 ? 'a positive integer' : `an integer of at least ${min}`;
    throw new UsageError(`${name} must be ${what}, got ${raw}`);
  }
  return n;
}

/** An integer option that may be negative (zstd levels run from -7 to 22). */
export function signedIntOption(parsed: ParsedArgs, name: string): number | undefined {
  const raw = parsed.values.get(name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isSafeInteger(n)) throw new UsageError(`${name} must be an integer, got ${raw}`);
  return n;
}
