/**
 * One measured S3 case in a process of its own (so its peak RSS is its own); prints one JSON
 * line { seconds, maxRssMB }. Run by s3.ts.
 *   node bench/dist/s3-case.js upload-snapstream|upload-lib-storage|download-snapstream|download-sdk FILE BUCKET KEY PART_SIZE QUEUE
 */
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createS3Client, createS3Sink, createS3Source } from 'snapstream';
import { peakRssMB } from './peak-rss.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const [name, file, bucket, key, partSize, queue] = process.argv.slice(2) as [string, string, string, string, string, string];
const client = createS3Client({ endpoint: process.env.SNAPSTREAM_S3_ENDPOINT! });
const read = (): fs.ReadStream => fs.createReadStream(file, { highWaterMark: 1024 * 1024 });

const cases: Record<string, () => Promise<void>> = {
  async 'upload-snapstream'() {
    await pipeline(read(), createS3Sink({ client, bucket, key, partSize: Number(partSize), concurrency: Number(queue) }));
  },
  async 'upload-lib-storage'() {
    await new Upload({ client, params: { Bucket: bucket, Key: key, Body: read() }, partSize: Number(partSize), queueSize: Number(queue) }).done();
  },
  async 'download-snapstream'() {
    await pipeline(createS3Source({ client, bucket, key }), fs.createWriteStream(file));
  },
  async 'download-sdk'() {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    await pipeline(res.Body as Readable, fs.createWriteStream(file));
  },
};

const start = performance.now();
await cases[name]!();
const seconds = (performance.now() - start) / 1000;
process.stdout.write(`${JSON.stringify({ seconds, maxRssMB: peakRssMB() })}\n`);
