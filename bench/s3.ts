/**
 * S3 upload and download of a snapshot file against a real server (the Ceph of
 * .ci/ceph/with-ceph.sh), side by side in one run with the AWS SDK's own tools:
 * `createS3Sink` against `@aws-sdk/lib-storage`'s `Upload` (same part size and parts in flight),
 * and `createS3Source` against a plain `GetObject` stream, each into a file. Interleaved,
 * median of `--runs`, each case in its own process for its peak RSS.
 *
 *   npm run bench:s3 -- --size 1g --runs 3 [--part-size 8m] [--queue 4] [--update-docs]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client, sampleEntries, writeSnapshot } from 'snapstream';
import { option, parseSize } from './bench-args.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => option(args, name, fallback);
const sizeText = opt('--size', '1g');
const size = parseSize(sizeText);
const runs = Number(opt('--runs', '3'));
const partSize = parseSize(opt('--part-size', '8m'));
const queue = Number(opt('--queue', '4'));
if (!process.env.SNAPSTREAM_S3_ENDPOINT) throw new Error('run through `npm run bench:s3`, which starts Ceph and sets SNAPSTREAM_S3_ENDPOINT');

const dir = path.join(os.tmpdir(), 'snapstream-s3-bench');
fs.mkdirSync(dir, { recursive: true });
const file = path.join(dir, `snapshot-${sizeText}.snap`);

/** A zstd snapshot file of about `size` bytes (sample entries compress about 3.6×). */
async function ensureSnapshot(): Promise<void> {
  if (fs.existsSync(file)) return;
  process.stderr.write(`writing a ${sizeText} snapshot to ${file} …\n`);
  await writeSnapshot(sampleEntries({ bytes: Math.round(size * 3.62), now: 1_800_000_000_000 }), file);
}

interface Sample {
  seconds: number;
  maxRssMB: number;
}

function runCase(name: string, target: string, bucket: string, key: string): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(here, 's3-case.js'), name, target, bucket, key, String(partSize), String(queue)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(text) as Sample) : reject(new Error(`${name} exited ${code}`))));
  });
}

/** The last 48 bytes of a file (its footer): read, not the whole file, which would swell this process. */
function tail(p: string): Buffer {
  const fd = fs.openSync(p, 'r');
  const out = Buffer.alloc(48);
  fs.readSync(fd, out, 0, 48, fs.fstatSync(fd).size - 48);
  fs.closeSync(fd);
  return out;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  await ensureSnapshot();
  const fileSize = fs.statSync(file).size;
  const client = createS3Client({ endpoint: process.env.SNAPSTREAM_S3_ENDPOINT! });
  const bucket = `snapstream-bench-${Date.now()}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  const samples = new Map<string, Sample[]>();
  const add = (k: string, s: Sample): void => void samples.set(k, [...(samples.get(k) ?? []), s]);
  const copy = path.join(dir, 'downloaded.snap');
  try {
    for (let run = 0; run < runs; run++) {
      process.stderr.write(`run ${run + 1}/${runs}\n`);
      // Alternate which goes first, so neither always meets a freshly written cluster.
      const order = run % 2 === 0 ? ['upload-lib-storage', 'upload-snapstream'] : ['upload-snapstream', 'upload-lib-storage'];
      for (const name of order) add(name, await runCase(name, file, bucket, name));
      for (const name of run % 2 === 0 ? ['download-sdk', 'download-snapstream'] : ['download-snapstream', 'download-sdk']) {
        add(name, await runCase(name, copy, bucket, 'upload-snapstream'));
        if (fs.statSync(copy).size !== fileSize || !tail(copy).equals(tail(file))) throw new Error(`${name}: the download differs`);
      }
      for (const key of ['upload-lib-storage', 'upload-snapstream']) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    }
  } finally {
    fs.rmSync(copy, { force: true });
    await client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
  }
  const rate = (k: string): number => fileSize / 1e6 / median(samples.get(k)!.map((s) => s.seconds));
  const rss = (k: string): number => Math.max(...samples.get(k)!.map((s) => s.maxRssMB));
  const upRatio = rate('upload-snapstream') / rate('upload-lib-storage');
  const downRatio = rate('download-snapstream') / rate('download-sdk');
  const lines = [
    `S3 (single-node Ceph radosgw on loopback), a ${(fileSize / 1024 ** 3).toFixed(2)} GiB snapshot, parts of ${partSize / 1024 ** 2} MiB, ${queue} in flight, median of ${runs} runs, ${new Date().toISOString().slice(0, 10)}:`,
    '',
    '| | throughput | peak RSS |',
    '|---|---|---|',
    `| \`@aws-sdk/lib-storage\` Upload | ${rate('upload-lib-storage').toFixed(0)} MB/s | ${rss('upload-lib-storage').toFixed(0)} MB |`,
    `| \`createS3Sink\` (resumable, trailer CRC verified before completing) | ${rate('upload-snapstream').toFixed(0)} MB/s | ${rss('upload-snapstream').toFixed(0)} MB |`,
    `| \`GetObject\` stream into a file | ${rate('download-sdk').toFixed(0)} MB/s | ${rss('download-sdk').toFixed(0)} MB |`,
    `| \`createS3Source\` (resuming) into a file | ${rate('download-snapstream').toFixed(0)} MB/s | ${rss('download-snapstream').toFixed(0)} MB |`,
    '',
    `upload ratio ${upRatio.toFixed(2)}× (target ≥ 0.9×), download ratio ${downRatio.toFixed(2)}×; snapstream peak RSS ≤ 160 MB: ${Math.max(rss('upload-snapstream'), rss('download-snapstream')) <= 160 ? 'ok' : 'MISSED'}`,
  ];
  const table = lines.join('\n');
  process.stdout.write(`${table}\n`);
  if (args.includes('--update-docs')) {
    const doc = path.join(here, '..', '..', 'docs', 'BENCHMARKS.md');
    const start = '<!-- s3:start -->';
    const end = '<!-- s3:end -->';
    let text = fs.readFileSync(doc, 'utf8');
    const block = `${start}\n${table}\n${end}`;
    text = text.includes(start) ? text.replace(new RegExp(`${start}[\\s\\S]*?${end}`), block) : `${text.trimEnd()}\n\n## S3 upload and download\n\n${block}\n`;
    fs.writeFileSync(doc, text);
  }
  process.exitCode = upRatio >= 0.9 && Math.max(rss('upload-snapstream'), rss('download-snapstream')) <= 160 ? 0 : 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
