/**
 * An upload killed mid-way (SIGKILL, twice) resumes: each new run lists the parts the server
 * holds, keeps those its state recorded, reads the file only from the first missing part and
 * sends only the missing parts (counted at the client, one UploadPart request each); the object
 * is the file byte for byte. A writer that starts again from byte 0 has the kept prefix checked
 * and skipped, and a different stream over the kept parts is refused.
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { spawn } from 'node:child_process';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { ListPartsCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Sink, sampleEntries, writeSnapshot, S3_MIN_PART_SIZE } from '../../lib/index.js';
import { listUploads, readUploadState } from '../../lib/s3/upload-state.js';
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

/** Parts the next run may keep: recorded in the state, held by the server, whole, from part 1 on. */
async function keptParts(c: S3Client, bucket: string, key: string): Promise<number> {
  const state = await readUploadState(c, bucket, key);
  if (!state) return 0;
  const listed = await c.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: state.uploadId }));
  const held = new Map((listed.Parts ?? []).map((p) => [p.PartNumber!, p]));
  let n = 0;
  while (state.parts.some((p) => p.partNumber === n + 1 && p.size === PART && held.get(n + 1)?.ETag === p.etag)) n++;
  return n;
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
