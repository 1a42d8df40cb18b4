/** Snapshot files from the shell: pack JSON Lines into one, unpack it, inspect it. */
import { pipeline } from 'node:stream/promises';
import { jsonlParser } from 'stream-chain/node/jsonl';
import { checkCodec } from '../../codec/codec.js';
import { inspectSnapshot, verifySnapshot } from '../../snapshot/inspect-snapshot.js';
import { readSnapshot } from '../../snapshot/read-snapshot.js';
import { writeSnapshot } from '../../snapshot/write-snapshot.js';
import { intOption, type ParsedArgs } from '../args.js';
import { report, type Command } from '../command.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { formatBytes, formatCount } from '../format.js';
import { entriesToJsonLines, jsonToEntries } from '../jsonl-entries.js';
import { ProgressBar } from '../progress.js';

function fileArg(args: ParsedArgs, what: string): string {
  const [file, ...rest] = args.positional;
  if (!file) throw new UsageError(`${what} needs a FILE`);
  if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest[0]}`);
  return file;
}

function metaOption(args: ParsedArgs): Record<string, unknown> {
  const text = args.values.get('--meta');
  if (text === undefined) return {};
  try {
    const meta = JSON.parse(text) as unknown;
    if (meta && typeof meta === 'object' && !Array.isArray(meta)) return meta as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new UsageError('--meta must be a JSON object, e.g. --meta \'{"index":42,"term":7}\'');
}

export const snapshotFileCommands: Record<string, Command> = {
  pack: {
    usage: "pack FILE [--codec zstd|lz4|none] [--level N] [--block-size N] [--meta '{...}']",
    summary: 'JSON Lines entries on stdin → a snapshot file (crash-safe: FILE.partial, then rename)',
    flags: { values: ['--codec', '--level', '--block-size', '--meta'] },
    async run(args, ctx) {
      const file = fileArg(args, 'pack');
      const bar = new ProgressBar('pack', { quiet: ctx.quiet });
      const entries = process.stdin.pipe(jsonlParser.asStream()).pipe(jsonToEntries());
      const summary = await writeSnapshot(entries, file, {
        codec: checkCodec(args.values.get('--codec') ?? 'zstd'),
        meta: metaOption(args),
        ...(args.values.has('--level') ? { level: Number(args.values.get('--level')) } : {}),
        ...(args.values.has('--block-size') ? { blockSize: intOption(args, '--block-size', 0) } : {}),
        onProgress: (p) => bar.update(p),
      }).finally(() => bar.done());
      report(ctx, summary, [`${file}: ${formatCount(summary.entries)} entries, ${formatBytes(summary.bytes)} in ${summary.blocks} blocks`]);
      return EXIT.OK;
    },
  },
  unpack: {
    usage: 'unpack FILE [--skip-expired]',
    summary: 'a snapshot file → JSON Lines entries on stdout, every block verified',
    flags: { switches: ['--skip-expired'] },
    async run(args) {
      const file = fileArg(args, 'unpack');
      try {
        await pipeline(readSnapshot(file, { batch: true, skipExpired: args.switches.has('--skip-expired') }), entriesToJsonLines(), process.stdout);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EPIPE') return EXIT.OK;
        throw err;
      }
      return EXIT.OK;
    },
  },
  inspect: {
    usage: 'inspect FILE [--blocks] [--verify]',
    summary: 'header, metadata, blocks, totals and ratio of a snapshot file (--verify: check every byte)',
    flags: { switches: ['--blocks', '--verify'] },
    async run(args, ctx) {
      const file = fileArg(args, 'inspect');
      const info = await inspectSnapshot(file);
      if (args.switches.has('--verify')) await verifySnapshot(file);
      const { header } = info;
      const lines = [
        `file       ${file} (${formatBytes(info.fileSize)})`,
        `format     snapstream v${header.version}, codec ${header.codec}, block size ${formatBytes(header.blockSize)}`,
        `created    ${new Date(header.createdAt).toISOString()}`,
        `metadata   ${JSON.stringify(header.meta)}`,
        `entries    ${formatCount(info.entries)} in ${info.blocks.length} blocks`,
        `raw        ${formatBytes(info.rawBytes)}, ratio ${info.ratio.toFixed(2)}×`,
      ];
      if (args.switches.has('--verify')) lines.push('verified   every CRC and frame checks out');
      if (args.switches.has('--blocks')) {
        for (const b of info.blocks) {
          lines.push(`  block ${b.seq} at ${b.offset}: ${formatBytes(b.frameLength)} → ${formatBytes(b.rawLength)}, ${b.entries} entries, cursor ${JSON.stringify(b.cursor)}`);
        }
      }
      const result = { ...info, blocks: args.switches.has('--blocks') ? info.blocks : info.blocks.length, verified: args.switches.has('--verify') };
      report(ctx, result, lines);
      return EXIT.OK;
    },
  },
};
