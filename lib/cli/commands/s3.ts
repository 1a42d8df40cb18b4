/**
 * `snapstream s3 put|get|ls|verify|restore|prune|delete|abort`: a snapshot store on an S3 bucket
 * prefix from the shell — the store commands of ./store-commands.ts on an {@link S3SnapshotStore},
 * plus `put`, `get` and `abort`, which only it has. Endpoint, region and credentials come from the
 * flags or the standard AWS environment variables; the secret key only from a file or the
 * environment, never the command line.
 */
import fs from 'node:fs/promises';
import { createS3Client } from '../../s3/s3-client.js';
import { S3SnapshotStore } from '../../s3/s3-snapshot-store.js';
import { abortS3Upload } from '../../s3/upload-state.js';
import type { ParsedArgs } from '../args.js';
import { report } from '../command.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { formatBytes, plural } from '../format.js';
import { ProgressBar } from '../progress.js';
import { one, parseSize, resolveId, storeCommand, type StoreSubcommand } from './store-commands.js';

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
  return S3SnapshotStore.at({
    client,
    bucket,
    ...(v.has('--prefix') ? { prefix: v.get('--prefix')! } : {}),
    ...(v.has('--part-size') ? { partSize: parseSize(v.get('--part-size')!, '--part-size') } : {}),
  });
}

/** What only the S3 store has: uploading a file, downloading one, giving up an interrupted upload. */
const s3Only: Record<string, StoreSubcommand<S3SnapshotStore>> = {
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

const s3 = storeCommand<S3SnapshotStore>({
  name: 's3',
  summary: 'a snapshot store in S3-compatible object storage: resumable uploads, resuming downloads, restore with fallback',
  flags: CONNECTION_FLAGS,
  flagsUsage: CONNECTION_USAGE,
  flagsFirst: false,
  open: openStore,
  extra: s3Only,
});

export const s3Command = s3.command;
export const s3Usage = s3.usage;
