/**
 * `snapstream s3 put|get|ls|verify|restore|prune|delete|abort`: a snapshot store on an S3 bucket
 * prefix from the shell. Endpoint, region and credentials come from the flags or the standard
 * AWS environment variables; the secret key only from a file or the environment, never the
 * command line.
 */
import fs from 'node:fs/promises';
import { directoryApplier } from '../../adapters/directory-adapter.js';
import { createS3Client } from '../../s3/s3-client.js';
import { S3SnapshotStore } from '../../s3/s3-snapshot-store.js';
import { abortS3Upload } from '../../s3/upload-state.js';
import { parseArgs, type ParsedArgs } from '../args.js';
import { lookup, report, type Command, type CommandContext } from '../command.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { formatBytes, formatCount, plural } from '../format.js';
import { jsonlFileApplier } from '../jsonl-applier.js';
import { problemJson, reportVerifyAll, snapshotLines, warnProblems } from '../snapshot-report.js';
import { ProgressBar } from '../progress.js';
import { countingApplier } from '../restore-progress.js';
import { parseSize, RETENTION_FLAGS, retentionFromArgs } from './store.js';

const CONNECTION_FLAGS = ['--endpoint', '--region', '--bucket', '--prefix', '--access-key-id', '--secret-access-key-file', '--secret-access-key', '--part-size'];
const CONNECTION_USAGE = '--bucket B [--prefix P] [--endpoint URL] [--region R] [--access-key-id ID --secret-access-key-file FILE] [--part-size 8m]';

async function openStore(args: ParsedArgs): Promise<S3SnapshotStore> {
  const v = args.values;
  if (v.has('--secret-access-key')) {
    throw new UsageError('secrets are not taken on the command line: use --secret-access-key-file FILE or AWS_SECRET_ACCESS_KEY');
  }
  const bucket = v.get('--bucket') ?? process.env.SNAPSTREAM_S3_BUCKET;
  if (!bucket) throw new UsageError('--bucket is required (or SNAPSTREAM_S3_BUCKET)');
  const secretFile = v.get('--secret-access-key-file');
  const secretAccessKey = secretFile ? (await fs.readFile(secretFile, 'utf8')).trim() : undefined;
  if (secretFile && !secretAccessKey) throw new UsageError(`the secret file ${secretFile} is empty`);
  // The SDK warns about Node 20 on every run; the CLI's users cannot act on it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const client = createS3Client({
    ...(v.has('--endpoint') ? { endpoint: v.get('--endpoint')! } : {}),
    ...(v.has('--region') ? { region: v.get('--region')! } : {}),
    ...(v.has('--access-key-id') ? { accessKeyId: v.get('--access-key-id')! } : {}),
    ...(secretAccessKey ? { secretAccessKey } : {}),
  });
  return S3SnapshotStore.open({
    client,
    bucket,
    ...(v.has('--prefix') ? { prefix: v.get('--prefix')! } : {}),
    ...(v.has('--part-size') ? { partSize: parseSize(v.get('--part-size')!, '--part-size') } : {}),
  });
}

function one(args: ParsedArgs, what: string): string {
  if (args.positional.length !== 1) throw new UsageError(`${what} needs exactly one argument`);
  return args.positional[0]!;
}

async function resolveId(store: S3SnapshotStore, id: string): Promise<string> {
  if (id !== 'latest') return id;
  const latest = await store.latest();
  if (!latest) throw new UsageError(`s3://${store.bucket}/${store.prefix} holds no snapshot`);
  return latest.id;
}

type Sub = { usage: string; values?: string[]; run: (store: S3SnapshotStore, a: ParsedArgs, c: CommandContext) => Promise<number> };

const sub: Record<string, Sub> = {
  put: {
    usage: 'put FILE [--id ID]',
    values: ['--id'],
    async run(store, args, ctx) {
      const file = one(args, 's3 put');
      const size = (await fs.stat(file)).size;
      const bar = new ProgressBar('put', { ...ctx, total: size });
      let sent = 0;
      const result = await store
        .upload(file, {
          ...(args.values.has('--id') ? { id: args.values.get('--id')! } : {}),
          onPart: (p) => bar.update({ bytes: (sent += p.size) }),
        })
        .catch((err: unknown) => {
          bar.stop();
          throw err;
        });
      bar.done({ bytesIn: size, bytesOut: result.bytes });
      report(ctx, result, [
        `uploaded ${result.id} to s3://${result.bucket}/${result.key}: ${formatBytes(result.bytes)} in ${plural(result.parts, 'part')}` +
          (result.partsResumed > 0 ? ` (${result.partsResumed} kept from an interrupted upload, ${result.partsSent} sent)` : ''),
      ]);
      return EXIT.OK;
    },
  },
  get: {
    usage: 'get ID|latest OUT',
    async run(store, args, ctx) {
      if (args.positional.length !== 2) throw new UsageError('s3 get needs an ID (or latest) and an output file');
      const id = await resolveId(store, args.positional[0]!);
      const out = args.positional[1]!;
      const verified = await store.download(id, out);
      report(ctx, { id, path: out, bytes: verified.bytes, entries: verified.footer.entriesTotal }, [
        `downloaded ${id} to ${out}: ${formatBytes(verified.bytes)}, ${plural(verified.footer.entriesTotal, 'entry', 'entries')}, verified`,
      ]);
      return EXIT.OK;
    },
  },
  ls: {
    usage: 'ls',
    async run(store, _args, ctx) {
      const list = await store.list();
      warnProblems(store.problems);
      report(
        ctx,
        { snapshots: list, problems: store.problems.map(problemJson) },
        snapshotLines(list),
      );
      return EXIT.OK;
    },
  },
  verify: {
    usage: 'verify [ID]',
    async run(store, args, ctx) {
      const id = args.positional[0];
      if (id) {
        await store.verify(await resolveId(store, id));
        report(ctx, { ok: [id], corrupt: [] }, [`${id}: ok`]);
        return EXIT.OK;
      }
      return reportVerifyAll(ctx, await store.verifyAll(), 'moved aside under corrupt/');
    },
  },
  restore: {
    usage: 'restore (--to-dir TARGET | --to-jsonl FILE)',
    values: ['--to-dir', '--to-jsonl'],
    async run(store, args, ctx) {
      const toDir = args.values.get('--to-dir');
      const toJsonl = args.values.get('--to-jsonl');
      if (!toDir === !toJsonl) throw new UsageError('give one of --to-dir TARGET or --to-jsonl FILE');
      const counted = countingApplier(toDir ? directoryApplier(toDir) : jsonlFileApplier(toJsonl!), await store.list());
      const bar = new ProgressBar('restore', { ...ctx, poll: counted.progress });
      const result = await store.restore(counted.applier).catch((err: unknown) => {
        bar.stop();
        throw err;
      });
      bar.done({ bytesIn: result.snapshot.size, entries: result.entries });
      report(ctx, { id: result.snapshot.id, entries: result.entries, expired: result.expired, corrupt: result.corrupt }, [
        ...result.corrupt.map((id) => `${id}: corrupt, moved aside under corrupt/`),
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
      const id = one(args, 's3 delete');
      await store.delete(id);
      report(ctx, { removed: [id] }, [`removed ${id}`]);
      return EXIT.OK;
    },
  },
  abort: {
    usage: 'abort ID',
    async run(store, args, ctx) {
      const id = one(args, 's3 abort');
      const aborted = await abortS3Upload({ client: store.client, bucket: store.bucket, key: store.keyOf(id) });
      report(ctx, { aborted }, [aborted.length === 0 ? `no upload of ${id} in progress` : `aborted the interrupted upload of ${id}`]);
      return EXIT.OK;
    },
  },
};

export const s3Command: Command = {
  usage: `s3 put|get|ls|verify|restore|prune|delete|abort ${CONNECTION_USAGE} ...`,
  summary: 'a snapshot store in S3-compatible object storage: resumable uploads, resuming downloads, restore with fallback',
  flags: { passThrough: true },
  help(args) {
    const command = lookup(sub, args[0]);
    if (command) return `usage: snapstream s3 ${command.usage} ${CONNECTION_USAGE}\n`;
    return `usage: snapstream s3 SUBCOMMAND ${CONNECTION_USAGE}\n${Object.values(sub).map((s) => `  s3 ${s.usage}\n`).join('')}`;
  },
  async run(args, ctx) {
    const [name, ...rest] = args.positional;
    const command = lookup(sub, name);
    if (!command) throw new UsageError(name === undefined ? `s3 needs one of: ${Object.keys(sub).join(', ')}` : `unknown s3 subcommand: ${name}`);
    const parsed = parseArgs(rest, { values: [...CONNECTION_FLAGS, ...(command.values ?? [])] });
    const store = await openStore(parsed);
    return command.run(store, parsed, ctx);
  },
};

export const s3Usage = Object.values(sub).map((s) => `s3 ${s.usage}`);
