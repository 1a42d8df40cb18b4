/** Snapshot files from the shell: pack JSON Lines into one, unpack it, inspect it. */
import fsp from 'node:fs/promises';
import { pipeline as pipelineCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { checkCodec, checkLevel } from '../../codec/codec.js';
import { decodeFooter, FOOTER_FRAME_SIZE } from '../../format/snapshot-frames.js';
import { partialPathFor } from '../../sink/resumable-file-sink.js';
import type { Progress } from '../../streams/stage-options.js';
import { inspectSnapshot, verifySnapshot } from '../../snapshot/inspect-snapshot.js';
import { readSnapshot } from '../../snapshot/read-snapshot.js';
import { writeSnapshot } from '../../snapshot/write-snapshot.js';
import { intOption, signedIntOption, type ParsedArgs } from '../args.js';
import { report, type Command } from '../command.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { formatBytes, formatCount, plural } from '../format.js';
import { entriesToJsonLines, JsonlEntryReader } from '../jsonl-entries.js';
import { ByteCounter, fileSize, ProgressBar, stdinSize } from '../progress.js';

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

/** The raw (decoded) size in a snapshot file's footer, or undefined if it has none that reads. */
async function rawTotalOf(file: string, size: number | undefined): Promise<number | undefined> {
  if (size === undefined || size < FOOTER_FRAME_SIZE) return undefined;
  try {
    const handle = await fsp.open(file, 'r');
    try {
      const frame = Buffer.alloc(FOOTER_FRAME_SIZE);
      await handle.read(frame, 0, frame.length, size - frame.length);
      return decodeFooter(frame, size - frame.length).rawTotal;
    } finally {
      await handle.close();
    }
  } catch {
    // Only the progress display is lost; the read itself reports what is wrong.
    return undefined;
  }
}

export const snapshotFileCommands: Record<string, Command> = {
  pack: {
    usage: "pack FILE [--codec zstd|lz4|none] [--level N] [--block-size N] [--fixed-blocks] [--no-digests] [--meta '{...}']",
    summary: 'JSON Lines entries on stdin → a snapshot file (crash-safe: FILE.partial, then rename)',
    flags: { values: ['--codec', '--level', '--block-size', '--meta'], switches: ['--fixed-blocks', '--no-digests'] },
    async run(args, ctx) {
      const file = fileArg(args, 'pack');
      const level = signedIntOption(args, '--level');
      const options = {
        codec: checkCodec(args.values.get('--codec') ?? 'zstd'),
        meta: metaOption(args),
        ...(level !== undefined ? { level: checkLevel(level) } : {}),
        ...(args.values.has('--block-size') ? { blockSize: intOption(args, '--block-size', 0) } : {}),
        // The layout before content-defined blocks and frame digests (docs/FORMAT.md 3.10, 3.5).
        ...(args.switches.has('--fixed-blocks') ? { boundaries: 'fixed' as const } : {}),
        ...(args.switches.has('--no-digests') ? { digests: false } : {}),
      };
      const reader = new JsonlEntryReader();
      const bar = new ProgressBar('pack', { ...ctx, total: stdinSize(), poll: () => ({ bytes: reader.bytes, entries: reader.entries }) });
      // A failure on either side reaches writeSnapshot through the reader.
      pipelineCallback(process.stdin, reader, () => {});
      // Interrupted (Ctrl-C) is a failure like any other: the partial goes too.
      const interrupt = new AbortController();
      const onSignal = (): void => interrupt.abort();
      process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
      let summary;
      try {
        summary = await writeSnapshot(reader, file, { ...options, signal: interrupt.signal });
      } catch (err) {
        bar.stop();
        // Standard input cannot be read again, so nothing could ever resume this partial file.
        await fsp.rm(partialPathFor(file), { force: true }).catch(() => {});
        throw err;
      } finally {
        process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      }
      bar.done({ bytesOut: summary.bytes, entries: summary.entries });
      report(ctx, summary, [`${file}: ${plural(summary.entries, 'entry', 'entries')}, ${formatBytes(summary.bytes)} in ${plural(summary.blocks, 'block')}`]);
      return EXIT.OK;
    },
  },
  unpack: {
    usage: 'unpack FILE [--skip-expired]',
    summary: 'a snapshot file → JSON Lines entries on stdout, every block verified',
    flags: { switches: ['--skip-expired'] },
    async run(args, ctx) {
      const file = fileArg(args, 'unpack');
      const size = fileSize(file);
      // Input progress from the decoded bytes against the footer's raw total (the fast file
      // reader inside readSnapshot does not say how far it has read).
      const rawTotal = await rawTotalOf(file, size);
      let decoded: Progress = { bytes: 0, entries: 0 };
      const bar = new ProgressBar('unpack', {
        ...ctx,
        total: size,
        poll: () => ({
          bytes: size !== undefined && rawTotal ? Math.round((size * decoded.bytes) / rawTotal) : 0,
          entries: decoded.entries,
        }),
      });
      const output = new ByteCounter();
      const entries = readSnapshot(file, { batch: true, skipExpired: args.switches.has('--skip-expired') });
      entries.on('progress', (p: Progress) => (decoded = p));
      try {
        await pipeline(entries, entriesToJsonLines(), output, process.stdout);
      } catch (err) {
        bar.stop();
        if ((err as NodeJS.ErrnoException).code === 'EPIPE') return EXIT.OK;
        throw err;
      }
      bar.done({ ...(size !== undefined ? { bytesIn: size } : {}), bytesOut: output.bytes });
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
        `format     snapstream v${header.version}, codec ${header.codec}, block size ${formatBytes(header.blockSize)}${header.digests ? ', frame digests' : ''}`,
        `created    ${new Date(header.createdAt).toISOString()}`,
        `metadata   ${JSON.stringify(header.meta)}`,
        `entries    ${formatCount(info.entries)} in ${plural(info.blocks.length, 'block')}`,
        `raw        ${formatBytes(info.rawBytes)}, ratio ${info.ratio.toFixed(2)}×`,
      ];
      if (args.switches.has('--verify')) lines.push('verified   every CRC and frame checks out');
      if (args.switches.has('--blocks')) {
        for (const b of info.blocks) {
          const digest = b.digest ? `, digest ${b.digest.toString('hex')}` : '';
          lines.push(`  block ${b.seq} at ${b.offset}: ${formatBytes(b.frameLength)} → ${formatBytes(b.rawLength)}, ${plural(b.entries, 'entry', 'entries')}, cursor ${JSON.stringify(b.cursor)}${digest}`);
        }
      }
      // Digests as hex in JSON, not a Buffer's { type, data }.
      const blocks = info.blocks.map((b) => (b.digest ? { ...b, digest: b.digest.toString('hex') } : b));
      const result = { ...info, blocks: args.switches.has('--blocks') ? blocks : info.blocks.length, verified: args.switches.has('--verify') };
      report(ctx, result, lines);
      return EXIT.OK;
    },
  },
};
