/**
 * `snapstream s3 …` and `snapstream store …` are one implementation: the same round trip (ls,
 * verify, restore by id of a damaged snapshot, restore with fall back, prune, delete, an inherited
 * name as subcommand) on a bucket prefix of a real server and on a directory gives the same exit
 * codes, error codes and JSON, but for the S3 store's own extras (an object's key and ETag).
 */
import t from 'tap';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { S3SnapshotStore } from '../../lib/index.js';
import { distProblem } from '../fixtures/built-dist.js';
import { directoryBackend, storeRoundTrip, type RoundTripBackend } from '../fixtures/store-round-trip.js';
import { freshBucket, s3Endpoint, testClient } from './fixtures/s3-env.js';

const client = testClient();

t.test('dist is built from the current sources', async (t) => {
  t.equal(distProblem(), null);
});

t.test('s3 and store: the same round trip, the same results', async (t) => {
  const bucket = await freshBucket(t, client);
  const prefix = 'round-trip/';
  const s3: RoundTripBackend = {
    command: ([sub, ...rest]) => ['s3', sub!, ...rest, '--bucket', bucket, '--prefix', prefix],
    env: { AWS_ENDPOINT_URL: s3Endpoint() },
    open: () => S3SnapshotStore.at({ client, bucket, prefix }),
    async damage(id) {
      const Key = `${prefix}${id}.snap`;
      const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key }));
      const bytes = Buffer.from(await res.Body!.transformToByteArray());
      bytes[bytes.length >> 1]! ^= 0xff;
      await client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: bytes }));
    },
  };
  const work = t.testdir();
  const onS3 = await storeRoundTrip(s3, work);
  const onDisk = await storeRoundTrip(directoryBackend(`${work}/store`), work);
  t.equal(onS3.length, 14, 'every step ran');
  onS3.forEach((step, i) => t.same(step, onDisk[i], `${step.args.join(' ')}: as on a directory`));
  t.match(onS3[6], { code: 0, json: { id: 's1', corrupt: ['s3', 's2'] } }, 'the restore fell back past both damaged snapshots');
});
