/**
 * The stream filters: each reads stdin and writes stdout, so they compose in shell pipes.
 *   snapstream encode < in.jsonl | snapstream compress | snapstream crc | snapstream verify |
 *   snapstream decompress | snapstream decode
 */
import type { Duplex } from 'node:stream';
import type { Progress } from '../../streams/stage-options.js';
import { pipeline } from 'node:stream/promises';
import { jsonlParser } from 'stream-chain/node/jsonl';
import { checkCodec } from '../../codec/codec.js';
import { compressFile, type CompressFileOptions } from '../../snapshot/compress-file.js';
import { Chunker } from '../../streams/chunker.js';
import { Compressor } from '../../streams/compressor.js';
import { CrcFooter } from '../../streams/crc-footer.js';
import { CrcVerifier } from '../../streams/crc-verifier.js';
import { Dechunker } from '../../streams/dechunker.js';
import { Decompressor } from '../../streams/decompressor.js';
import { EntryDecoder } from '../../streams/entry-decoder.js';
import { EntryEncoder } from '../../streams/entry-encoder.js';
import { intOption, type ParsedArgs } from '../args.js';
import { report, type Command, type CommandContext } from '../command.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { formatBytes } from '../format.js';
import { entriesToJsonLines, jsonToEntries } from '../jsonl-entries.js';
import { ProgressBar } from '../progress.js';

/** stdin → stages → stdout, with a progress bar fed by the snapstream stages' `progress` events. */
export async function filter(label: string, ctx: CommandContext, stages: Duplex[]): Promise<number> {
  const bar = new ProgressBar(label, { quiet: ctx.quiet });
  for (const stage of stages) stage.on('progress', (p: Progress) => bar.update(p));
  try {
    await pipeline([process.stdin, ...stages, process.stdout]);
  } catch (err) {
    // The reader went away (`| head`): not our failure.
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return EXIT.OK;
    throw err;
  } finally {
    bar.done();
  }
  return EXIT.OK;
}

const blockSizeFlag = (args: ParsedArgs): { blockSize?: number } =>
  args.values.has('--block-size') ? { blockSize: intOption(args, '--block-size', 0) } : {};

export const filterCommands: Record<string, Command> = {
  encode: {
    usage: 'encode [--block-size N]',
    summary: 'JSON Lines entries {"key","value","expiresAt"} on stdin → entry records on stdout',
    flags: { values: ['--block-size'] },
    run: (args, ctx) => filter('encode', ctx, [jsonlParser.asStream(), jsonToEntries(), new EntryEncoder(blockSizeFlag(args))]),
  },
  decode: {
    usage: 'decode [--skip-expired]',
    summary: 'entry records on stdin → JSON Lines on stdout (bytes that are not text as {"base64"})',
    flags: { switches: ['--skip-expired'] },
    run: (args, ctx) =>
      filter('decode', ctx, [new EntryDecoder({ batch: true, skipExpired: args.switches.has('--skip-expired') }), entriesToJsonLines()]),
  },
  compress: {
    usage: 'compress [--codec zstd|lz4|none] [--level N] [--block-size N] [IN OUT [--crc]]',
    summary: 'bytes → independent frames, readable by zstd -d / lz4 -d (default zstd level 1); IN OUT: file to file, faster, crash-safe',
    flags: { values: ['--codec', '--level', '--block-size'], switches: ['--crc'] },
    run: (args, ctx) => {
      const options = {
        codec: checkCodec(args.values.get('--codec') ?? 'zstd'),
        ...(args.values.has('--level') ? { level: Number(args.values.get('--level')) } : {}),
        ...blockSizeFlag(args),
      };
      if (args.positional.length === 0) {
        if (args.switches.has('--crc')) throw new UsageError('--crc is for IN OUT; in a pipe, add `| snapstream crc`');
        return filter('compress', ctx, [new Compressor(options)]);
      }
      return compressFiles(args, ctx, options);
    },
  },
  decompress: {
    usage: 'decompress',
    summary: 'zstd / lz4 frames (any mix, stock tools\' files too) → bytes; skippable frames skipped',
    flags: {},
    run: (_args, ctx) => filter('decompress', ctx, [new Decompressor()]),
  },
  crc: {
    usage: 'crc',
    summary: 'bytes → the same bytes + a CRC32 and length trailer (a skippable frame)',
    flags: {},
    run: (_args, ctx) => filter('crc', ctx, [new CrcFooter()]),
  },
  verify: {
    usage: 'verify',
    summary: 'bytes + CRC trailer → the bytes; fails (exit 3) on a mismatch or a missing trailer',
    flags: {},
    run: (_args, ctx) => filter('verify', ctx, [new CrcVerifier()]),
  },
  chunk: {
    usage: 'chunk [--chunk-size N]',
    summary: 'bytes → sequence-numbered, CRC-checked chunk frames (4–16 MiB) for pipes and sockets',
    flags: { values: ['--chunk-size'] },
    run: (args, ctx) =>
      filter('chunk', ctx, [new Chunker(args.values.has('--chunk-size') ? { chunkSize: intOption(args, '--chunk-size', 0) } : {})]),
  },
  dechunk: {
    usage: 'dechunk',
    summary: 'chunk frames → bytes, every chunk and the whole stream checked',
    flags: {},
    run: (_args, ctx) => filter('dechunk', ctx, [new Dechunker()]),
  },
};

/** `compress IN OUT`: compressFile, which reads the file straight into the blocks it compresses. */
async function compressFiles(args: ParsedArgs, ctx: CommandContext, options: CompressFileOptions): Promise<number> {
  const [source, target, ...rest] = args.positional;
  if (!source || !target) throw new UsageError('compress takes both IN and OUT, or neither (stdin to stdout)');
  if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest[0]}`);
  const bar = new ProgressBar('compress', { quiet: ctx.quiet });
  const summary = await compressFile(source, target, { ...options, crc: args.switches.has('--crc'), onProgress: (p) => bar.update(p) }).finally(() =>
    bar.done(),
  );
  const ratio = summary.bytesOut > 0 ? summary.bytesIn / summary.bytesOut : 0;
  report(ctx, summary, [`${target}: ${formatBytes(summary.bytesIn)} → ${formatBytes(summary.bytesOut)} (${ratio.toFixed(2)}×)`]);
  return EXIT.OK;
}
