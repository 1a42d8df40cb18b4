/**
 * The stream filters: each reads stdin and writes stdout, so they compose in shell pipes.
 *   snapstream encode < in.jsonl | snapstream compress | snapstream crc | snapstream verify |
 *   snapstream decompress | snapstream decode
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type { Duplex, Readable, Writable } from 'node:stream';
import type { Progress } from '../../streams/stage-options.js';
import { pipeline } from 'node:stream/promises';
import { checkCodec, checkLevel } from '../../codec/codec.js';
import { wrapIoError } from '../../errors.js';
import type { CompressFileOptions } from '../../snapshot/compress-file.js';
import { intOption, signedIntOption, type ParsedArgs } from '../args.js';
import { report, type Command, type CommandContext } from '../command.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { formatBytes } from '../format.js';
import { FdReader } from '../fd-reader.js';
import { ByteCounter, fileSize, ProgressBar, stdinSize } from '../progress.js';

// Each command imports the stages it runs when it runs (a fresh process pays for every module
// it loads: docs/BENCHMARKS.md, "Data that does not compress").
const stages = {
  compressor: () => import('../../streams/compressor.js'),
  decompressor: () => import('../../streams/decompressor.js'),
  crcFooter: () => import('../../streams/crc-footer.js'),
  crcVerifier: () => import('../../streams/crc-verifier.js'),
  entryEncoder: () => import('../../streams/entry-encoder.js'),
  entryDecoder: () => import('../../streams/entry-decoder.js'),
  chunker: () => import('../../streams/chunker.js'),
  dechunker: () => import('../../streams/dechunker.js'),
  jsonl: () => import('../jsonl-entries.js'),
};

/** Reads of a file on stdin: Node's own stdin for a file reads 64 KiB at a time. */
const STDIN_FILE_READ = 1024 * 1024;

/**
 * Standard input as a stream: a regular file (`< FILE`) is read from its current position in
 * 1 MiB synchronous reads (lib/cli/fd-reader.ts), where process.stdin would read 64 KiB at a
 * time on libuv's thread pool (16 times the calls and chunks for every stage after it, and two
 * thread wake-ups per read); anything else (a pipe, a terminal) is process.stdin.
 */
export function stdinStream(): Readable {
  let file = false;
  try {
    file = fs.fstatSync(0).isFile();
  } catch {
    // no stdin at all: process.stdin reports it
  }
  return file ? new FdReader(0, () => Buffer.allocUnsafeSlow(STDIN_FILE_READ), STDIN_FILE_READ) : process.stdin;
}

/**
 * stdin → stages → stdout, with progress measured on the input (and entries from `entries`, the
 * stage that knows them). A filter takes no file: it says so rather than read stdin instead.
 */
export async function filter(
  label: string,
  ctx: CommandContext,
  args: ParsedArgs,
  stages: Duplex[],
  entries?: Duplex,
  options: { recycle?: boolean } = {},
): Promise<number> {
  if (args.positional.length > 0) {
    throw new UsageError(`${label} reads standard input and takes no FILE (got ${args.positional[0]}): use \`snapstream ${label} < FILE\``);
  }
  const total = stdinSize();
  // `< FILE > OUT`: stages that only pass views of their input on, in order, read it into reused
  // buffers (lib/cli/recycled-stdio.ts).
  const recycled = options.recycle === true && total !== undefined ? await recycledStdio() : null;
  const input = recycled?.reader ?? new ByteCounter();
  const output = recycled?.writer ?? new ByteCounter();
  let entryCount: number | undefined;
  entries?.on('progress', (p: Progress) => (entryCount = p.entries));
  const bar = new ProgressBar(label, { ...ctx, total, poll: () => ({ bytes: input.bytes, entries: entryCount }) });
  try {
    await pipeline(recycled ? [recycled.reader, ...stages, recycled.writer] : [stdinStream(), input, ...stages, output, process.stdout]);
  } catch (err) {
    bar.stop();
    // The reader went away (`| head`): not our failure.
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return EXIT.OK;
    throw err;
  }
  bar.done({ bytesOut: output.bytes, ...(entryCount !== undefined ? { entries: entryCount } : {}) });
  return EXIT.OK;
}

/** The reader and writer of reused buffers, when stdout is a file or /dev/null; else null. */
async function recycledStdio(): Promise<{ reader: Readable & { bytes: number }; writer: Writable & { bytes: number } } | null> {
  const { FdWriter, ReadRing, RingReader, writableByFd } = await import('../recycled-stdio.js');
  if (!writableByFd(1)) return null;
  const ring = new ReadRing();
  return { reader: new RingReader(0, ring), writer: new FdWriter(1, ring) };
}

/** `--level N` (zstd: -7 to 22). */
const levelFlag = (args: ParsedArgs): { level?: number } => {
  const level = signedIntOption(args, '--level');
  return level === undefined ? {} : { level: checkLevel(level) };
};

const blockSizeFlag = (args: ParsedArgs): { blockSize?: number } =>
  args.values.has('--block-size') ? { blockSize: intOption(args, '--block-size', 0) } : {};

export const filterCommands: Record<string, Command> = {
  encode: {
    usage: 'encode [--block-size N]',
    summary: 'JSON Lines entries {"key","value","expiresAt"} on stdin → entry records on stdout',
    flags: { values: ['--block-size'] },
    run: async (args, ctx) => {
      const [{ EntryEncoder }, { JsonlEntryReader }] = await Promise.all([stages.entryEncoder(), stages.jsonl()]);
      const encoder = new EntryEncoder(blockSizeFlag(args));
      return filter('encode', ctx, args, [new JsonlEntryReader(), encoder], encoder);
    },
  },
  decode: {
    usage: 'decode [--skip-expired]',
    summary: 'entry records on stdin → JSON Lines on stdout (bytes that are not text as {"base64"})',
    flags: { switches: ['--skip-expired'] },
    run: async (args, ctx) => {
      const [{ EntryDecoder }, { entriesToJsonLines }] = await Promise.all([stages.entryDecoder(), stages.jsonl()]);
      const decoder = new EntryDecoder({ batch: true, skipExpired: args.switches.has('--skip-expired') });
      return filter('decode', ctx, args, [decoder, entriesToJsonLines()], decoder);
    },
  },
  compress: {
    usage: 'compress [--codec zstd|lz4|none] [--level N] [--block-size N] [IN OUT [--crc]]',
    summary: 'bytes → independent frames, readable by zstd -d / lz4 -d (default zstd level 1); IN OUT: file to file, faster, crash-safe',
    flags: { values: ['--codec', '--level', '--block-size'], switches: ['--crc'] },
    run: async (args, ctx) => {
      const options = {
        codec: checkCodec(args.values.get('--codec') ?? 'zstd'),
        ...levelFlag(args),
        ...blockSizeFlag(args),
      };
      if (args.positional.length === 0) {
        if (args.switches.has('--crc')) throw new UsageError('--crc is for IN OUT; in a pipe, add `| snapstream crc`');
        const { Compressor } = await stages.compressor();
        return filter('compress', ctx, args, [new Compressor(options)]);
      }
      return compressFiles(args, ctx, options);
    },
  },
  decompress: {
    usage: 'decompress',
    summary: 'zstd / lz4 frames (any mix, stock tools\' files too) → bytes; skippable frames skipped',
    flags: {},
    run: async (args, ctx) => filter('decompress', ctx, args, [new (await stages.decompressor()).Decompressor()], undefined, { recycle: true }),
  },
  crc: {
    usage: 'crc',
    summary: 'bytes → the same bytes + a CRC32 and length trailer (a skippable frame)',
    flags: {},
    run: async (args, ctx) => filter('crc', ctx, args, [new (await stages.crcFooter()).CrcFooter()]),
  },
  verify: {
    usage: 'verify [FILE]',
    summary: 'bytes + CRC trailer → the bytes; fails (exit 3) on a mismatch or a missing trailer. FILE: check it (a snapshot file or one with a CRC trailer), print nothing of it',
    flags: {},
    run: async (args, ctx) => (args.positional.length > 0 ? verifyFile(args, ctx) : filter('verify', ctx, args, [new (await stages.crcVerifier()).CrcVerifier()], undefined, { recycle: true })),
  },
  chunk: {
    usage: 'chunk [--chunk-size N]',
    summary: 'bytes → sequence-numbered, CRC-checked chunk frames (4–16 MiB) for pipes and sockets',
    flags: { values: ['--chunk-size'] },
    run: async (args, ctx) => {
      const { Chunker } = await stages.chunker();
      return filter('chunk', ctx, args, [new Chunker(args.values.has('--chunk-size') ? { chunkSize: intOption(args, '--chunk-size', 0) } : {})]);
    },
  },
  dechunk: {
    usage: 'dechunk',
    summary: 'chunk frames → bytes, every chunk and the whole stream checked',
    flags: {},
    run: async (args, ctx) => filter('dechunk', ctx, args, [new (await stages.dechunker()).Dechunker()]),
  },
};

/** `compress IN OUT`: compressFile, which reads the file straight into the blocks it compresses. */
async function compressFiles(args: ParsedArgs, ctx: CommandContext, options: CompressFileOptions): Promise<number> {
  const [source, target, ...rest] = args.positional;
  if (!source || !target) throw new UsageError('compress takes both IN and OUT, or neither (stdin to stdout)');
  if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest[0]}`);
  const { compressFile } = await import('../../snapshot/compress-file.js');
  const bar = new ProgressBar('compress', { ...ctx, total: fileSize(source) });
  const summary = await compressFile(source, target, { ...options, crc: args.switches.has('--crc'), onProgress: (p) => bar.update({ bytes: p.bytes }) }).catch(
    (err: unknown) => {
      bar.stop();
      throw err;
    },
  );
  bar.done({ bytesOut: summary.bytesOut });
  const ratio = summary.bytesOut > 0 ? summary.bytesIn / summary.bytesOut : 0;
  report(ctx, summary, [`${target}: ${formatBytes(summary.bytesIn)} → ${formatBytes(summary.bytesOut)} (${ratio.toFixed(2)}×)`]);
  return EXIT.OK;
}

/** True when the file starts with a snapstream header frame (a snapshot file). */
async function isSnapshotFile(file: string): Promise<boolean> {
  const [{ readFully }, { SKIPPABLE_HEADER, SNAP_SKIPPABLE_MAGIC, TAG_HEADER }] = await Promise.all([
    import('../../sink/read-fully.js'),
    import('../../format/skippable.js'),
  ]);
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, 'r');
  } catch (err) {
    throw wrapIoError(err, `opening ${file}`);
  }
  try {
    const head = Buffer.alloc(SKIPPABLE_HEADER + 4);
    const bytesRead = await readFully(handle, head, 0);
    return bytesRead === head.length && head.readUInt32LE(0) === SNAP_SKIPPABLE_MAGIC && head.toString('latin1', SKIPPABLE_HEADER) === TAG_HEADER;
  } finally {
    await handle.close();
  }
}

/** `verify FILE`: every byte of a snapshot file, or the CRC trailer of any other file; no output but the verdict. */
async function verifyFile(args: ParsedArgs, ctx: CommandContext): Promise<number> {
  const [file, ...rest] = args.positional;
  if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest[0]}`);
  const snapshot = await isSnapshotFile(file!);
  const input = new ByteCounter();
  let bytes = 0;
  const bar = new ProgressBar('verify', { ...ctx, total: fileSize(file!), poll: () => ({ bytes: snapshot ? input.bytes : bytes }) });
  try {
    if (snapshot) {
      const { verifySnapshot } = await import('../../snapshot/inspect-snapshot.js');
      const source = fs.createReadStream(file!, { highWaterMark: 1024 * 1024 });
      source.on('error', (err) => input.destroy(err));
      await verifySnapshot(source.pipe(input));
    } else {
      // Read into one reused buffer and hashed while in the cache, not as a stream of fresh buffers.
      const { verifyCrcFile } = await import('../verify-crc-file.js');
      bytes = (await verifyCrcFile(file!, (n) => (bytes = n))).bytes;
    }
  } catch (err) {
    bar.stop();
    throw err;
  }
  bar.done();
  report(ctx, { path: file, bytes: snapshot ? input.bytes : bytes, kind: snapshot ? 'snapshot' : 'crc-trailer', verified: true }, [
    `${file}: ok, ${formatBytes(snapshot ? input.bytes : bytes)} verified (${snapshot ? 'every block and CRC of the snapshot' : 'the CRC trailer'})`,
  ]);
  return EXIT.OK;
}
