/**
 * TailCrc, what the S3 sink verifies a stream with before publishing it: fed in any chunking,
 * it recognises a snapshot footer and a CRC trailer and checks them against the bytes before;
 * a flipped byte anywhere, a cut, or a missing trailer is a typed error; its state, saved at any
 * point and restored, carries on as if never interrupted.
 */
import t from 'tap';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import fs from 'node:fs';
import path from 'node:path';
import { createCrcFooter, sampleEntries, TailCrc, writeSnapshot } from '../../lib/index.js';
import { chunks, mulberry32 } from '../fixtures/random.js';

const dir = t.testdir();
const file = path.join(dir, 'a.snap');
await writeSnapshot(sampleEntries({ count: 3000 }), file);
const snapshot = fs.readFileSync(file);
const raw = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 31) % 251));
const parts: Buffer[] = [];
await pipeline(Readable.from([raw]), createCrcFooter(), new Writable({ write: (c: Buffer, _e, cb) => (parts.push(c), cb()) }));
const trailed = Buffer.concat(parts);

function check(bytes: Buffer, chunkSize: number): string {
  const crc = new TailCrc();
  for (const c of chunks(bytes, chunkSize)) crc.update(c);
  return crc.checkTrailer();
}

t.test('recognises and checks both trailers, whatever the chunking', async (t) => {
  for (const size of [1, 7, 47, 48, 49, 4096, -100, -70_000, 10_000_000]) {
    t.equal(check(snapshot, size), 'snapshot-footer', `snapshot, chunks ${size}`);
    t.equal(check(trailed, size), 'crc-trailer', `CRC trailer, chunks ${size}`);
  }
});

t.test('a flipped byte anywhere fails', async (t) => {
  const rand = mulberry32(9);
  for (const source of [snapshot, trailed]) {
    for (let i = 0; i < 60; i++) {
      const at = i < 48 ? source.length - 1 - i : Math.floor(rand() * source.length);
      const bad = Buffer.from(source);
      bad[at]! ^= 1 << (i % 8);
      t.throws(() => check(bad, -5000), { code: /SNAP_ERR_(CHECKSUM|FORMAT|TRUNCATED)/ }, `flip at ${at}`);
    }
  }
});

t.test('a cut or a missing trailer fails', async (t) => {
  for (const cut of [1, 5, 24, 47, 48, 100, 5000]) {
    t.throws(() => check(snapshot.subarray(0, snapshot.length - cut), 999), { code: /SNAP_ERR_(FORMAT|TRUNCATED|CHECKSUM)/ }, `cut ${cut}`);
  }
  t.throws(() => check(raw, 1000), { code: 'SNAP_ERR_FORMAT' });
  t.throws(() => new TailCrc().checkTrailer(), { code: 'SNAP_ERR_TRUNCATED' });
  // The snapshot's footer appended to other bytes: the CRC and length it claims do not hold.
  t.throws(() => check(Buffer.concat([raw, snapshot.subarray(-48)]), 999), { code: /SNAP_ERR_(CHECKSUM|TRUNCATED)/ });
});

t.test('state saved and restored carries on', async (t) => {
  for (const at of [0, 10, 48, 1000, snapshot.length - 30, snapshot.length]) {
    const first = new TailCrc();
    first.update(snapshot.subarray(0, at));
    const resumed = new TailCrc(first.state());
    resumed.update(snapshot.subarray(at));
    t.equal(resumed.checkTrailer(), 'snapshot-footer', `split at ${at}`);
    t.equal(resumed.length, snapshot.length);
  }
});
