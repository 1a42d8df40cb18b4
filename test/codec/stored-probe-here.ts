/**
 * A byte-mode Compressor probes each block on its own thread while no worker thread runs: a block
 * that does not compress is stored there (the frame the zstd worker makes for it, copied and
 * hashed in one pass), and no worker thread is asked for anything while every block is stored;
 * a block that compresses goes to a worker that is told it was probed, and from then on the
 * workers probe. The frames are the same bytes either way, stock
 * `zstd -d` reads them, and compressFile's CRC trailer, made from the CRCs computed here, verifies.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { compressBlock } from '../../lib/codec/block-codec.js';
import { looksIncompressible, probeHere } from '../../lib/codec/stored-probe.js';
import { storedZstdFrame, storedZstdFrameWithCrc } from '../../lib/codec/stored-zstd-frame.js';
import { sharedPool } from '../../lib/codec/worker-pool.js';
import type { WorkerRequest } from '../../lib/codec/worker-messages.js';
import { crc32 } from '../../lib/format/crc32.js';
import { Leases } from '../../lib/format/leases.js';
import { compressFile } from '../../lib/snapshot/compress-file.js';
import { Compressor } from '../../lib/streams/compressor.js';
import { CrcVerifier } from '../../lib/streams/crc-verifier.js';
import { halfRandomRecords, readsBack } from '../fixtures/incompressible.js';
import { randomBytesSeeded } from '../fixtures/random.js';

const KiB = 1024;
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'snapstream-stored-probe-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** Records every job given to the shared worker pool while `fn` runs. */
async function poolJobs<T>(fn: () => Promise<T>): Promise<{ result: T; jobs: Omit<WorkerRequest, 'id'>[] }> {
  const pool = sharedPool();
  const run = pool.run;
  const jobs: Omit<WorkerRequest, 'id'>[] = [];
  pool.run = (request, owned) => {
    jobs.push(request);
    return run.call(pool, request, owned);
  };
  try {
    return { result: await fn(), jobs };
  } finally {
    pool.run = run;
  }
}

t.test('the frame and its CRC in one pass: the same as storedZstdFrame and crc32', async (t) => {
  for (const size of [0, 1, 255, 256, 65_791, 65_792, 128 * KiB, 128 * KiB + 1, 1024 * KiB + 5]) {
    const data = randomBytesSeeded(size, size + 1);
    const { frame, crc } = storedZstdFrameWithCrc(data);
    t.ok(frame.equals(storedZstdFrame(data)), `${size} bytes: the same frame`);
    t.equal(crc, crc32(frame), `${size} bytes: the frame's CRC32`);
  }
});

t.test('the probe decides the same here as the rule says', async (t) => {
  t.equal(probeHere(randomBytesSeeded(1024 * KiB, 5), 1), true, 'random bytes: store');
  t.equal(probeHere(halfRandomRecords(1024 * KiB, 6), 1), false, 'half random records: compress');
  t.equal(probeHere(randomBytesSeeded(32 * KiB, 7), 1), false, 'too small to probe');
  t.equal(looksIncompressible(Buffer.alloc(64 * KiB), (spot) => spot.length), true, 'spots that do not shrink: store');
  t.equal(looksIncompressible(Buffer.alloc(64 * KiB), (spot) => spot.length - 200), false, 'spots that shrink by 1/20: compress');
});

t.test('a block that does not compress is stored on this thread, no worker asked', async (t) => {
  const data = randomBytesSeeded(1024 * KiB + 13, 8);
  const leases = new Leases();
  const { result, jobs } = await poolJobs(() => compressBlock('zstd', 1, Buffer.from(data), false, leases, false, 0, 'block'));
  t.equal(jobs.length, 0, 'no worker job');
  t.ok(result.data.equals(storedZstdFrame(data)), 'the stored frame');
  t.equal(result.crc, crc32(result.data), 'its CRC32');
  t.ok(leases.isLent(result.data), 'in pooled memory lent along the pipeline');
  await readsBack(t, 'zstd', tmp, Buffer.from(result.data), data, 'stored-here');
});

// These run before any test starts a worker thread: a last block too small to probe is then
// compressed here too.
t.test('a byte-mode Compressor of random bytes asks no worker; zstd -d reads its output', async (t) => {
  const data = randomBytesSeeded(3 * 1024 * KiB + 100, 10);
  const out: Buffer[] = [];
  const { jobs } = await poolJobs(() =>
    pipeline(
      Readable.from([data.subarray(0, 700_000), data.subarray(700_000)]),
      new Compressor({ codec: 'zstd' }),
      new Writable({ write: (c: Buffer, _e, cb) => (out.push(c), cb()) }),
    ),
  );
  t.equal(jobs.length, 0, 'no worker job');
  const file = path.join(tmp, 'compressor.zst');
  await fs.writeFile(file, Buffer.concat(out));
  t.ok(execFileSync('zstd', ['-d', '-c', '-q', file], { maxBuffer: 16 * 1024 * KiB }).equals(data), 'zstd -d reads it');
});

t.test('compressFile of random bytes: no worker, a CRC trailer that verifies, zstd -d reads it', async (t) => {
  const data = randomBytesSeeded(5 * 1024 * KiB + 7, 11);
  const source = path.join(tmp, 'random.bin');
  const target = path.join(tmp, 'random.bin.zst');
  await fs.writeFile(source, data);
  const { result, jobs } = await poolJobs(() => compressFile(source, target));
  t.equal(jobs.length, 0, 'no worker job');
  const file = await fs.readFile(target);
  t.equal(result.crc, crc32(file.subarray(0, file.length - 24)), 'the trailer’s CRC is the file’s');
  await pipeline(Readable.from([file]), new CrcVerifier(), new Writable({ write: (_c, _e, cb) => cb() }));
  t.pass('CrcVerifier accepts the file');
  t.ok(execFileSync('zstd', ['-d', '-c', '-q', target], { maxBuffer: 16 * 1024 * KiB }).equals(data), 'zstd -d reads it');
});

const small = halfRandomRecords(20 * KiB, 12);
let smallHere: Buffer | undefined;

t.test('a last block too small to probe, no worker running: compressed here', async (t) => {
  const { result, jobs } = await poolJobs(() => compressBlock('zstd', 1, Buffer.from(small), false, null, false, 0, 'last'));
  t.equal(jobs.length, 0, 'no worker job');
  t.equal(result.crc, crc32(result.data));
  smallHere = Buffer.from(result.data);
  const file = path.join(tmp, 'small-here.zst');
  await fs.writeFile(file, smallHere);
  t.ok(execFileSync('zstd', ['-d', '-c', '-q', file]).equals(small), 'zstd -d reads it');
});

t.test('a block that compresses goes to a worker, told it was probed; then the workers probe', async (t) => {
  const data = halfRandomRecords(1024 * KiB, 9);
  const { result, jobs } = await poolJobs(() => compressBlock('zstd', 1, Buffer.from(data), false, null, false, 0, 'block'));
  t.equal(jobs.length, 1, 'one worker job');
  t.equal((jobs[0] as unknown as { probed?: boolean }).probed, true, 'marked probed');
  t.equal(result.crc, crc32(result.data));
  await readsBack(t, 'zstd', tmp, result.data, data, 'probed-compressible');
  // A worker runs now: what comes next goes to the workers, which probe it themselves.
  const random = randomBytesSeeded(1024 * KiB, 13);
  const { result: stored, jobs: storedJobs } = await poolJobs(() => compressBlock('zstd', 1, Buffer.from(random), false, null, false, 0, 'block'));
  t.equal(storedJobs.length, 1, 'with a worker running, a block goes to it');
  t.equal((storedJobs[0] as unknown as { probed?: boolean }).probed, undefined, 'unprobed');
  t.ok(stored.data.equals(storedZstdFrame(random)), 'which stores it the same way');
  const again = await compressBlock('zstd', 1, Buffer.from(data), false);
  t.ok(again.data.equals(result.data), 'the bytes a worker makes when it probes itself');
  const { result: tail, jobs: tailJobs } = await poolJobs(() => compressBlock('zstd', 1, Buffer.from(small), false, null, false, 0, 'last'));
  t.equal(tailJobs.length, 1, 'with a worker running, a small last block goes to it');
  t.ok(smallHere && tail.data.equals(smallHere), 'the same bytes as compressed here');
});
