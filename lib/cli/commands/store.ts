/** `snapstream store ls|verify|restore|prune|delete --dir DIR`: a snapshot store from the shell. */
import { directoryApplier } from '../../adapters/directory-adapter.js';
import { SnapshotStore } from '../../store/snapshot-store.js';
import type { RetentionPolicy } from '../../store/retention.js';
import { jsonlFileApplier } from '../jsonl-applier.js';
import { parseArgs, type ParsedArgs } from '../args.js';
import { lookup, report, type Command, type CommandContext } from '../command.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { formatCount, plural } from '../format.js';
import { ProgressBar } from '../progress.js';
import { countingApplier } from '../restore-progress.js';
import { problemJson, reportVerifyAll, snapshotLines, warnProblems } from '../snapshot-report.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZES: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** `90s`, `15m`, `12h`, `7d` or plain milliseconds. */
export function parseDuration(text: string, flag: string): number {
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
export const RETENTION_FLAGS = ['--max-snapshots', '--max-age', '--min-interval', '--max-total-bytes'];
export function retentionFromArgs(args: ParsedArgs): RetentionPolicy {
  const policy: RetentionPolicy = {};
  const v = args.values;
  if (v.has('--max-snapshots')) policy.maxSnapshots = parseSize(v.get('--max-snapshots')!, '--max-snapshots');
  if (v.has('--max-age')) policy.maxAge = parseDuration(v.get('--max-age')!, '--max-age');
  if (v.has('--min-interval')) policy.minInterval = parseDuration(v.get('--min-interval')!, '--min-interval');
  if (v.has('--max-total-bytes')) policy.maxTotalBytes = parseSize(v.get('--max-total-bytes')!, '--max-total-bytes');
  if (Object.keys(policy).length === 0) throw new UsageError('prune needs at least one retention rule');
  return policy;
}

async function withStore<T>(args: ParsedArgs, fn: (store: SnapshotStore) => Promise<T>): Promise<T> {
  const dir = args.values.get('--dir');
  if (!dir) throw new UsageError('--dir is required');
  const store = await SnapshotStore.open(dir);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const sub: Record<string, { usage: string; flags: { values?: string[]; switches?: string[] }; run: (a: ParsedArgs, c: CommandContext) => Promise<number> }> = {
  ls: {
    usage: 'store ls --dir DIR',
    flags: { values: ['--dir'] },
    run: (args, ctx) =>
      withStore(args, async (store) => {
        const list = store.list();
        warnProblems(store.problems);
        report(
          ctx,
          {
            snapshots: list,
            pending: store.pending.map((p) => ({ path: p.path, bytes: p.durableBytes, entries: p.entries })),
            problems: store.problems.map(problemJson),
          },
          snapshotLines(list),
        );
        return EXIT.OK;
      }),
  },
  verify: {
    usage: 'store verify --dir DIR [ID]',
    flags: { values: ['--dir'] },
    run: (args, ctx) =>
      withStore(args, async (store) => {
        const id = args.positional[0];
        if (id) {
          warnProblems(store.problems);
          await store.verify(id);
          report(ctx, { ok: [id], corrupt: [] }, [`${id}: ok`]);
          return EXIT.OK;
        }
        return reportVerifyAll(ctx, await store.verifyAll(), 'moved aside');
      }),
  },
  restore: {
    usage: 'store restore --dir DIR [--id ID] (--to-dir TARGET | --to-jsonl FILE)',
    flags: { values: ['--dir', '--id', '--to-dir', '--to-jsonl'] },
    run: (args, ctx) =>
      withStore(args, async (store) => {
        const toDir = args.values.get('--to-dir');
        const toJsonl = args.values.get('--to-jsonl');
        if (!toDir === !toJsonl) throw new UsageError('give one of --to-dir TARGET or --to-jsonl FILE');
        warnProblems(store.problems);
        // --id: that snapshot or an error, never a fall back to another.
        const id = args.values.get('--id');
        const candidates = id === undefined ? store.list() : store.list().filter((s) => s.id === id);
        const counted = countingApplier(toDir ? directoryApplier(toDir) : jsonlFileApplier(toJsonl!), candidates);
        const bar = new ProgressBar('restore', { ...ctx, poll: counted.progress });
        const result = await store.restore(counted.applier, id === undefined ? {} : { id }).catch((err: unknown) => {
          bar.stop();
          throw err;
        });
        bar.done({ bytesIn: result.snapshot.size, entries: result.entries });
        report(ctx, { id: result.snapshot.id, entries: result.entries, expired: result.expired, corrupt: result.corrupt }, [
          ...result.corrupt.map((id) => `${id}: corrupt, moved aside`),
          `restored ${result.snapshot.id}: ${plural(result.entries, 'entry', 'entries')} (${formatCount(result.expired)} expired skipped) into ${toDir ?? toJsonl}`,
        ]);
        return EXIT.OK;
      }),
  },
  prune: {
    usage: 'store prune --dir DIR [--max-snapshots N] [--max-age 7d] [--min-interval 1h] [--max-total-bytes 10g]',
    flags: { values: ['--dir', ...RETENTION_FLAGS] },
    run: (args, ctx) =>
      withStore(args, async (store) => {
        const removed = await store.prune(retentionFromArgs(args));
        report(ctx, { removed }, removed.length === 0 ? ['nothing to prune'] : removed.map((id) => `removed ${id}`));
        return EXIT.OK;
      }),
  },
  delete: {
    usage: 'store delete --dir DIR ID',
    flags: { values: ['--dir'] },
    run: (args, ctx) =>
      withStore(args, async (store) => {
        const id = args.positional[0];
        if (!id || args.positional.length > 1) throw new UsageError('store delete needs exactly one ID');
        await store.delete(id);
        report(ctx, { removed: [id] }, [`removed ${id}`]);
        return EXIT.OK;
      }),
  },
};

export const storeCommand: Command = {
  usage: 'store ls|verify|restore|prune|delete --dir DIR ...',
  summary: 'list, verify, restore (newest that verifies, or --id), prune and delete snapshots in a store',
  flags: { passThrough: true },
  help(args) {
    const command = lookup(sub, args[0]);
    if (command) return `usage: snapstream ${command.usage}\n`;
    return `usage: snapstream store SUBCOMMAND --dir DIR ...\n${Object.values(sub).map((s) => `  ${s.usage}\n`).join('')}`;
  },
  async run(args, ctx) {
    const [name, ...rest] = args.positional;
    const command = lookup(sub, name);
    if (!command) throw new UsageError(name === undefined ? `store needs one of: ${Object.keys(sub).join(', ')}` : `unknown store subcommand: ${name}`);
    return command.run(parseArgs(rest, command.flags), ctx);
  },
};

export const storeUsage = Object.values(sub).map((s) => s.usage);
