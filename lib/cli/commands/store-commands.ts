/**
 * The subcommands of every snapshot store from the shell — `ls`, `verify`, `restore`, `prune`,
 * `delete` — written once against the {@link SnapshotStore} interface. `snapstream store …` (a
 * directory) and `snapstream s3 …` (a bucket prefix) are this one implementation with two
 * {@link StoreBackend}s: they differ only in the flags that say where the store is, how it is
 * opened, and the subcommands only one of them has (`s3 put|get|abort`). The JSON output is the
 * same shape for both.
 */
import { directoryApplier } from '../../adapters/directory-adapter.js';
import type { RetentionPolicy } from '../../store/retention.js';
import type { SnapshotStore } from '../../store/snapshot-store-interface.js';
import { parseArgs, type ParsedArgs } from '../args.js';
import { lookup, report, type Command, type CommandContext } from '../command.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { formatCount, plural } from '../format.js';
import { jsonlFileApplier } from '../jsonl-applier.js';
import { ProgressBar } from '../progress.js';
import { countingApplier } from '../restore-progress.js';
import { problemJson, reportVerifyAll, snapshotLines, warnProblems } from '../snapshot-report.js';

/** One subcommand of a store command: its usage (after the subcommand's name), its own value flags, and its run. */
export interface StoreSubcommand<T extends SnapshotStore> {
  /** E.g. `verify [ID]`: the subcommand's name first. */
  usage: string;
  /** Value flags of this subcommand (besides the backend's). */
  values?: string[];
  run(store: T, args: ParsedArgs, ctx: CommandContext): Promise<number>;
}

/** Where a store command's store is and how it is opened: the one difference between `store` and `s3`. */
export interface StoreBackend<T extends SnapshotStore> {
  /** The command's name: `store`, `s3`. */
  name: string;
  /** One line on what it does. */
  summary: string;
  /** The value flags that say where the store is, taken by every subcommand. */
  flags: string[];
  /** Their usage, shown right after the subcommand (`--dir DIR`), or after its arguments (the S3 connection). */
  flagsUsage: string;
  /** Whether `flagsUsage` goes after the subcommand's name (short) or at the end of the line (long). */
  flagsFirst: boolean;
  /** Opens the store the flags name. */
  open(args: ParsedArgs): Promise<T>;
  /** Interrupted creates awaiting a resume, for `ls` (none for a store that keeps none). */
  pending?(store: T): unknown[];
  /** Subcommands only this backend has. */
  extra?: Record<string, StoreSubcommand<T>>;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZES: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** `90s`, `15m`, `12h`, `7d` or plain milliseconds. */
function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text);
  if (!m) throw new UsageError(`${flag} must be a duration like 90s, 15m, 12h or 7d`);
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']!);
}

/** `512m`, `10g` or plain bytes. */
export function parseSize(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)([kmgt]?)b?$/i.exec(text);
  if (!m) throw new UsageError(`${flag} must be a size like 512m or 10g`);
  return Math.round(Number(m[1]) * SIZES[m[2]!.toLowerCase()]!);
}

/** The retention rules of a `prune` command line: at least one is required. */
const RETENTION_FLAGS = ['--max-snapshots', '--max-age', '--min-interval', '--max-total-bytes'];
function retentionFromArgs(args: ParsedArgs): RetentionPolicy {
  const policy: RetentionPolicy = {};
  const v = args.values;
  if (v.has('--max-snapshots')) policy.maxSnapshots = parseSize(v.get('--max-snapshots')!, '--max-snapshots');
  if (v.has('--max-age')) policy.maxAgeMs = parseDuration(v.get('--max-age')!, '--max-age');
  if (v.has('--min-interval')) policy.minIntervalMs = parseDuration(v.get('--min-interval')!, '--min-interval');
  if (v.has('--max-total-bytes')) policy.maxTotalBytes = parseSize(v.get('--max-total-bytes')!, '--max-total-bytes');
  if (Object.keys(policy).length === 0) throw new UsageError('prune needs at least one retention rule');
  return policy;
}

/** `latest` names the newest snapshot (as in `s3 get latest OUT`). */
export async function resolveId(store: SnapshotStore, id: string): Promise<string> {
  if (id !== 'latest') return id;
  const latest = await store.latest();
  if (!latest) throw new UsageError(`${store.location} holds no snapshot`);
  return latest.id;
}

/** The one positional argument of a subcommand. */
export function one(args: ParsedArgs, what: string): string {
  if (args.positional.length !== 1) throw new UsageError(`${what} needs exactly one argument`);
  return args.positional[0]!;
}

/** The subcommands every store has. */
function commonSubcommands<T extends SnapshotStore>(backend: StoreBackend<T>): Record<string, StoreSubcommand<T>> {
  return {
    ls: {
      usage: 'ls',
      async run(store, _args, ctx) {
        const list = await store.list();
        warnProblems(store.problems);
        report(
          ctx,
          { snapshots: list, pending: backend.pending?.(store) ?? [], problems: store.problems.map(problemJson) },
          snapshotLines(list),
        );
        return EXIT.OK;
      },
    },
    verify: {
      usage: 'verify [ID|latest]',
      async run(store, args, ctx) {
        const named = args.positional[0];
        if (named === undefined) return reportVerifyAll(ctx, await store.verifyAll(), 'moved aside');
        const id = await resolveId(store, named);
        warnProblems(store.problems);
        await store.verify(id);
        report(ctx, { ok: [id], corrupt: [] }, [`${id}: ok`]);
        return EXIT.OK;
      },
    },
    restore: {
      usage: 'restore [--id ID] (--to-dir TARGET | --to-jsonl FILE)',
      values: ['--id', '--to-dir', '--to-jsonl'],
      async run(store, args, ctx) {
        const toDir = args.values.get('--to-dir');
        const toJsonl = args.values.get('--to-jsonl');
        if (!toDir === !toJsonl) throw new UsageError('give one of --to-dir TARGET or --to-jsonl FILE');
        // --id: that snapshot or an error, never a fall back to another.
        const id = args.values.get('--id');
        const list = await store.list();
        warnProblems(store.problems);
        const candidates = id === undefined ? list : list.filter((s) => s.id === id);
        const counted = countingApplier(toDir ? directoryApplier(toDir) : jsonlFileApplier(toJsonl!), candidates);
        const bar = new ProgressBar('restore', { ...ctx, poll: counted.progress });
        const result = await store.restore(counted.applier, id === undefined ? {} : { id }).catch((err: unknown) => {
          bar.stop();
          throw err;
        });
        bar.done({ bytesIn: result.snapshot.size, entries: result.entries });
        report(ctx, { id: result.snapshot.id, entries: result.entries, expired: result.expired, corrupt: result.corrupt }, [
          ...result.corrupt.map((c) => `${c}: corrupt, moved aside`),
          `restored ${result.snapshot.id}: ${plural(result.entries, 'entry', 'entries')} (${formatCount(result.expired)} expired skipped) into ${toDir ?? toJsonl}`,
        ]);
        return EXIT.OK;
      },
    },
    prune: {
      usage: 'prune [--max-snapshots N] [--max-age 7d] [--min-interval 1h] [--max-total-bytes 10g]',
      values: RETENTION_FLAGS,
      async run(store, args, ctx) {
        const removed = await store.prune(retentionFromArgs(args));
        report(ctx, { removed }, removed.length === 0 ? ['nothing to prune'] : removed.map((id) => `removed ${id}`));
        return EXIT.OK;
      },
    },
    delete: {
      usage: 'delete ID',
      async run(store, args, ctx) {
        const id = one(args, `${backend.name} delete`);
        await store.delete(id);
        report(ctx, { removed: [id] }, [`removed ${id}`]);
        return EXIT.OK;
      },
    },
  };
}

/** A store command (`store`, `s3`) from its backend, and its subcommands' usage lines for `snapstream --help`. */
export function storeCommand<T extends SnapshotStore>(backend: StoreBackend<T>): { command: Command; usage: string[] } {
  const sub: Record<string, StoreSubcommand<T>> = { ...backend.extra, ...commonSubcommands(backend) };
  // `store verify --dir DIR [ID]`, `s3 verify [ID]` (the long connection flags follow in the help).
  const line = (s: StoreSubcommand<T>): string => {
    if (!backend.flagsFirst) return `${backend.name} ${s.usage}`;
    const [name, ...rest] = s.usage.split(' ');
    return [backend.name, name, backend.flagsUsage, ...rest].join(' ');
  };
  const full = (s: StoreSubcommand<T>): string => (backend.flagsFirst ? line(s) : `${line(s)} ${backend.flagsUsage}`);
  const names = Object.keys(sub);
  const command: Command = {
    usage: `${backend.name} ${names.join('|')} ${backend.flagsUsage} ...`,
    summary: backend.summary,
    flags: { passThrough: true },
    help(args) {
      const s = lookup(sub, args[0]);
      if (s) return `usage: snapstream ${full(s)}\n`;
      return `usage: snapstream ${backend.name} SUBCOMMAND ${backend.flagsUsage} ...\n${Object.values(sub).map((s) => `  ${line(s)}\n`).join('')}`;
    },
    async run(args, ctx) {
      const [name, ...rest] = args.positional;
      // An own property only: `store toString` is an unknown subcommand, not Object.prototype's.
      const s = lookup(sub, name);
      if (!s) throw new UsageError(name === undefined ? `${backend.name} needs one of: ${names.join(', ')}` : `unknown ${backend.name} subcommand: ${name}`);
      const parsed = parseArgs(rest, { values: [...backend.flags, ...(s.values ?? [])] });
      const store = await backend.open(parsed);
      try {
        return await s.run(store, parsed, ctx);
      } finally {
        await store.close();
      }
    },
  };
  return { command, usage: Object.values(sub).map(line) };
}
