/**
 * An upload killed mid-way (SIGKILL, twice) resumes: each new run lists the parts the server
 * holds, keeps those its state recorded, reads the file only from the first missing part and
 * sends only the missing parts (counted at the client, one UploadPart request each); the object
 * is the file byte for byte. A writer that starts again from byte 0 has the kept prefix checked
 * and skipped, and a different stream over the kept parts is refused. The record in the bucket
 * stays a few hundred bytes however many parts (an earlier version's, listing every part, is
 * still read).
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { spawn } from 'node:child_process';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, ListPartsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Sink, sampleEntries, writeSnapshot, S3_MIN_PART_SIZE } from '../../lib/index.js';
import { listUploads, readUploadState, uploadStateKey } from '../../lib/s3/upload-state.js';
import { countRequests, freshBucket, getObject, s3Endpoint, testClient } from './fixtures/s3-env.js';

const child = fileURLToPath(new URL('./fixtures/upload-child.ts', import.meta.url));
const PART = S3_MIN_PART_SIZE;
const client = testClient();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapstream-s3-kill-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, 'big.snap');
await writeSnapshot(sampleEntries({ bytes: 160 * 1024 * 1024, seed: 11 }), file);
const bytes = fs.readFileSync(file);
const totalParts = Math.ceil(bytes.length / PART);

/** Runs the upload child until it reports `parts` more acknowledged parts, then SIGKILLs it. */
async function uploadAndKill(bucket: string, key: string, parts: number): Promise<void> {
  const proc = spawn(process.execPath, [...process.execArgv, child, s3Endpoint(), bucket, key, file, String(PART), String(12 * 1024 * 1024)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  let seen = 0;
  for await (const line of readline.createInterface({ input: proc.stdout! })) {
    if ((JSON.parse(line) as { part?: number }).part && ++seen >= parts) break;
  }
  proc.kill('SIGKILL');
  await exited;
}

/** Parts the next run may keep: the run the record counts, if the server holds each whole. */
async function keptParts(c: S3Client, bucket: string, key: string): Promise<number> {
  const state = await readUploadState(c, bucket, key);
  if (!state) return 0;
  const listed = await c.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: state.uploadId }));
  const held = new Map((listed.Parts ?? []).map((p) => [p.PartNumber!, p]));
  for (let n = 1; n <= state.parts; n++) if (held.get(n)?.Size !== PART) return 0;
  return state.parts;
}

t.test('killed twice, resumed: only the missing parts are sent, the object is the file', async (t) => {
  const bucket = await freshBucket(t, client);
  // Two parts in flight and a state write after each: of the parts acknowledged before a kill,
  // all but the last two are surely recorded.
  t.ok(totalParts >= 9, `${totalParts} parts`);
  await uploadAndKill(bucket, 'big.snap', 3);
  const afterFirst = await keptParts(client, bucket, 'big.snap');
  t.ok(afterFirst >= 1, `the first run's parts were kept (${afterFirst})`);
  await uploadAndKill(bucket, 'big.snap', 3);
  const kept = await keptParts(client, bucket, 'big.snap');
  t.ok(kept >= afterFirst + 1, `the second run kept the first's parts and added its own (${afterFirst} → ${kept})`);
  t.ok(kept < totalParts, 'and was killed before the end');
  t.equal((await listUploads(client, bucket, 'big.snap')).length, 1, 'one upload in progress, reused');

  const counting = testClient();
  const requests = countRequests(counting);
  const sink = createS3Sink({ client: counting, bucket, key: 'big.snap', partSize: PART });
  const offset = await sink.resumeOffset();
  t.equal(offset, kept * PART, 'resumes at the end of the kept parts');
  let read = 0;
  const source = fs.createReadStream(file, { start: offset });
  source.on('data', (c) => (read += c.length));
  await pipeline(source, sink);
  t.equal(read, bytes.length - offset, 'the file was read only from the first missing part');
  t.equal(requests.get('UploadPartCommand'), totalParts - kept, `only the ${totalParts - kept} missing parts were sent`);
  t.equal(sink.result?.partsResumed, kept);
  t.equal(sink.result?.partsSent, totalParts - kept);
  t.ok((await getObject(client, bucket, 'big.snap')).equals(bytes), 'the object is the file, byte for byte');
  t.same(await listUploads(client, bucket, 'big.snap'), []);
});

t.test('a writer starting from byte 0 again: the kept prefix is checked, not sent', async (t) => {
  const bucket = await freshBucket(t, client);
  await uploadAndKill(bucket, 'k', 5);
  const kept = await keptParts(client, bucket, 'k');
  const counting = testClient();
  const requests = countRequests(counting);
  const sink = createS3Sink({ client: counting, bucket, key: 'k', partSize: PART });
  await pipeline(fs.createReadStream(file), sink);
  t.equal(requests.get('UploadPartCommand'), totalParts - kept);
  t.ok((await getObject(client, bucket, 'k')).equals(bytes));
});

t.test('a different stream over the kept parts is refused, and the upload kept', async (t) => {
  const bucket = await freshBucket(t, client);
  await uploadAndKill(bucket, 'k', 4);
  const other = Buffer.from(bytes);
  other[100] ^= 1;
  const sink = createS3Sink({ client, bucket, key: 'k', partSize: PART });
  await t.rejects(pipeline(async function* () {
    for (let i = 0; i < other.length; i += 1 << 20) yield other.subarray(i, i + (1 << 20));
  }, sink), { code: 'SNAP_ERR_CHECKSUM' });
  t.equal((await listUploads(client, bucket, 'k')).length, 1, 'the interrupted upload is still there to resume');
  // resume: false starts again from nothing.
  const fresh = createS3Sink({ client, bucket, key: 'k', partSize: PART, resume: false });
  await pipeline(fs.createReadStream(file), fresh);
  t.equal(fresh.result?.partsResumed, 0);
  t.ok((await getObject(client, bucket, 'k')).equals(bytes));
});

t.test('the record stays small however many parts; one written by an earlier version resumes too', async (t) => {
  const bucket = await freshBucket(t, client);
  await uploadAndKill(bucket, 'k', 6);
  const record = await client.send(new GetObjectCommand({ Bucket: bucket, Key: uploadStateKey('k') }));
  const text = await record.Body!.transformToString();
  const state = JSON.parse(text) as { version: number; uploadId: string; partSize: number; parts: number; end: unknown };
  t.equal(state.version, 2);
  t.ok(state.parts >= 1, `${state.parts} parts counted`);
  t.ok(text.length < 400, `${text.length} bytes for ${state.parts} parts`);

  // The same upload as version 1 recorded it: every part, with the CRC state at each one's end.
  const listed = await client.send(new ListPartsCommand({ Bucket: bucket, Key: 'k', UploadId: state.uploadId }));
  const v1 = {
    version: 1,
    key: 'k',
    uploadId: state.uploadId,
    partSize: state.partSize,
    parts: (listed.Parts ?? [])
      .filter((p) => p.PartNumber! <= state.parts)
      .map((p) => ({ partNumber: p.PartNumber!, size: p.Size!, etag: p.ETag!, end: p.PartNumber === state.parts ? state.end : { length: 0, crc: 0, tail: '' } })),
  };
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: uploadStateKey('k'), Body: JSON.stringify(v1) }));
  const sink = createS3Sink({ client, bucket, key: 'k', partSize: PART });
  const offset = await sink.resumeOffset();
  t.equal(offset, state.parts * PART, 'resumes after the parts the old record lists');
  await pipeline(fs.createReadStream(file, { start: offset }), sink);
  t.equal(sink.result?.partsResumed, state.parts);
  t.ok((await getObject(client, bucket, 'k')).equals(bytes));
});
