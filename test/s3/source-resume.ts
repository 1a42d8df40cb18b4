/**
 * The S3 source against a real server behind a proxy that cuts connections mid-body: the
 * download resumes from its offset (the proxy carries each byte about once, not again from the
 * start) and the bytes verify; retries without progress are bounded and end in a typed error;
 * an object replaced between two requests is an error, never a splice.
 */
import t from 'tap';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Source, sampleEntries, verifySnapshot, writeSnapshot, readSnapshot } from '../../lib/index.js';
import { startCuttingProxy } from './fixtures/cutting-proxy.js';
import { freshBucket, s3Endpoint, testClient } from './fixtures/s3-env.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const client = testClient();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapstream-s3-source-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, 'a.snap');
await writeSnapshot(sampleEntries({ bytes: 96 * 1024 * 1024, seed: 5 }), file);
const snapshot = fs.readFileSync(file);

async function collect(source: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  await pipeline(source, new Writable({ write: (c: Buffer, _e, cb) => (parts.push(c), cb()) }));
  return Buffer.concat(parts);
}

async function bucketWithSnapshot(t: Parameters<Parameters<typeof t.test>[1]>[0]): Promise<string> {
  const bucket = await freshBucket(t, client);
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'a.snap', Body: snapshot }));
  return bucket;
}

t.test('a download cut three times mid-body resumes from its offset each time', async (t) => {
  const bucket = await bucketWithSnapshot(t);
  const proxy = await startCuttingProxy({ target: new URL(s3Endpoint()), cuts: 3, cutAfter: 5 * 1024 * 1024 });
  t.teardown(() => proxy.close());
  const source = createS3Source({ client: testClient(proxy.endpoint), bucket, key: 'a.snap', backoffMs: 20 });
  const retries: number[] = [];
  source.on('retry', (r: { position: number }) => retries.push(r.position));
  const got = await collect(source);
  t.ok(got.equals(snapshot), 'the bytes are the object');
  t.equal(proxy.cutsMade, 3);
  t.equal(source.resumes, 3, 'three requests after failures');
  t.ok(retries.every((p, i) => p > 0 && (i === 0 || p > retries[i - 1]!)), `each resumed further on: ${retries.join(', ')}`);
  t.ok(proxy.downstreamBytes < snapshot.length + 3 * 256 * 1024, `carried ${proxy.downstreamBytes} bytes for ${snapshot.length}: nothing fetched twice but what was in flight`);
});

t.test('a download cut mid-way verifies as a snapshot and restores its entries', async (t) => {
  const bucket = await bucketWithSnapshot(t);
  const proxy = await startCuttingProxy({ target: new URL(s3Endpoint()), cuts: 2, cutAfter: 3 * 1024 * 1024 });
  t.teardown(() => proxy.close());
  const c = testClient(proxy.endpoint);
  const verified = await verifySnapshot(createS3Source({ client: c, bucket, key: 'a.snap', backoffMs: 20 }));
  t.equal(verified.bytes, snapshot.length);
  let entries = 0;
  for await (const batch of readSnapshot(createS3Source({ client: c, bucket, key: 'a.snap', backoffMs: 20 }), { batch: true })) {
    entries += (batch as unknown[]).length;
  }
  t.equal(entries, verified.footer.entriesTotal);
  t.equal(proxy.cutsMade, 2);
});

t.test('a range, resumed, is exactly that range', async (t) => {
  const bucket = await bucketWithSnapshot(t);
  const proxy = await startCuttingProxy({ target: new URL(s3Endpoint()), cuts: 1, cutAfter: 2 * 1024 * 1024 });
  t.teardown(() => proxy.close());
  const start = 1_000_003;
  const end = 9_000_017;
  const got = await collect(createS3Source({ client: testClient(proxy.endpoint), bucket, key: 'a.snap', start, end, backoffMs: 20 }));
  t.ok(got.equals(snapshot.subarray(start, end)));
  const tail = await collect(createS3Source({ client, bucket, key: 'a.snap', start: snapshot.length - 10 }));
  t.ok(tail.equals(snapshot.subarray(snapshot.length - 10)));
});

t.test('retries without progress are bounded: a typed NETWORK error', async (t) => {
  const bucket = await bucketWithSnapshot(t);
  const proxy = await startCuttingProxy({ target: new URL(s3Endpoint()), cuts: 1, cutAfter: 1024 * 1024, refuseAfterCuts: true });
  t.teardown(() => proxy.close());
  const source = createS3Source({ client: testClient(proxy.endpoint), bucket, key: 'a.snap', retries: 3, backoffMs: 10 });
  await t.rejects(collect(source), { code: 'SNAP_ERR_NETWORK' });
  t.equal(source.resumes, 3, 'three retries, then the error');
});

t.test('an object replaced mid-download is an error, not a splice', async (t) => {
  const bucket = await bucketWithSnapshot(t);
  const proxy = await startCuttingProxy({ target: new URL(s3Endpoint()), cuts: 0, cutAfter: 0 });
  t.teardown(() => proxy.close());
  const source = createS3Source({ client: testClient(proxy.endpoint), bucket, key: 'a.snap', backoffMs: 10, highWaterMark: 64 * 1024 });
  const parts: Buffer[] = [];
  let replaced = false;
  const sink = new Writable({
    highWaterMark: 64 * 1024,
    write(c: Buffer, _e, cb) {
      parts.push(c);
      if (!replaced && parts.length === 8) {
        replaced = true;
        client
          .send(new PutObjectCommand({ Bucket: bucket, Key: 'a.snap', Body: Buffer.from('something else entirely') }))
          .then(() => {
            proxy.cutAll();
            cb();
          }, cb);
        return;
      }
      cb();
    },
  });
  await t.rejects(pipeline(source, sink), { code: 'SNAP_ERR_CHECKSUM' });
});

t.test('a missing object is NOT_FOUND; bad options are INVALID_ARGUMENT', async (t) => {
  const bucket = await freshBucket(t, client);
  await t.rejects(collect(createS3Source({ client, bucket, key: 'nothing' })), { code: 'SNAP_ERR_NOT_FOUND' });
  t.throws(() => createS3Source({ client, bucket, key: 'k', start: -1 }), { code: 'SNAP_ERR_INVALID_ARGUMENT' });
  t.throws(() => createS3Source({ client, bucket, key: 'k', start: 10, end: 5 }), { code: 'SNAP_ERR_INVALID_ARGUMENT' });
});
