/**
 * The CLI reads a regular file on this thread (`fs.readSync`), as the stock tools do, not on
 * libuv's thread pool: a read there costs two thread wake-ups, which on a VM take longer than
 * reading and hashing the 256 KiB (docs/BENCHMARKS.md, "Data that does not compress", session 9).
 * `verify FILE`, the ring reader of `decompress < FILE > OUT`, and a file on a filter's stdin make
 * no `fs.read` call, and read what they read before.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32, crcTrailer } from '../../lib/index.js';
import { verifyCrcFile } from '../../lib/cli/verify-crc-file.js';
import { FdWriter, ReadRing, RECYCLED_READ_SIZE, RingReader } from '../../lib/cli/recycled-stdio.js';
import { randomBytesSeeded, testSeed } from '../fixtures/random.js';

const seed = testSeed(t, 0x5ec0e4d);

/** Runs `fn` with fs.read counted (and still working); returns how often it was called. */
async function countReads(fn: () => Promise<unknown>): Promise<number> {
  const original = fs.read;
  let calls = 0;
  (fs as { read: unknown }).read = (...args: unknown[]) => {
    calls++;
    return (original as (...a: unknown[]) => unknown)(...args);
  };
  try {
    await fn();
  } finally {
    (fs as { read: unknown }).read = original;
  }
  return calls;
}

t.test('verify FILE: no read on the thread pool, the same verdict', async (t) => {
  const data = randomBytesSeeded(5 * RECYCLED_READ_SIZE + 3, seed);
  const file = path.join(t.testdir(), 'f.bin');
  fs.writeFileSync(file, Buffer.concat([data, crcTrailer(crc32(data), data.length)]));
  let result: unknown;
  t.equal(await countReads(async () => (result = await verifyCrcFile(file))), 0, 'no fs.read');
  t.same(result, { bytes: data.length + 24, length: data.length, crc: crc32(data) });
});

t.test('the ring reader: a read gives its bytes at once, on this thread', async (t) => {
  const data = randomBytesSeeded(3 * RECYCLED_READ_SIZE + 11, seed + 1);
  const dir = t.testdir();
  fs.writeFileSync(path.join(dir, 'in'), data);
  const fd = fs.openSync(path.join(dir, 'in'), 'r');
  t.teardown(() => fs.closeSync(fd));
  const reader = new RingReader(fd, new ReadRing());
  const first = reader.read() as Buffer | null;
  reader.destroy();
  t.ok(first && first.equals(data.subarray(0, RECYCLED_READ_SIZE)), 'the first read() returns the first bytes');

  // The whole file through the ring into another.
  const inFd = fs.openSync(path.join(dir, 'in'), 'r');
  const outFd = fs.openSync(path.join(dir, 'out'), 'w');
  const ring = new ReadRing();
  const calls = await countReads(() => pipeline(new RingReader(inFd, ring), new FdWriter(outFd, ring) as Writable));
  fs.closeSync(inFd);
  fs.closeSync(outFd);
  t.equal(calls, 0, 'no fs.read');
  t.ok(fs.readFileSync(path.join(dir, 'out')).equals(data), 'the file');
});

t.test("a file on a filter's stdin: read on this thread, from where its offset stands", async (t) => {
  const { spawnSync } = await import('node:child_process');
  const { root } = await import('../fixtures/built-dist.js');
  const dir = t.testdir();
  const data = randomBytesSeeded(3 * 1024 * 1024 + 7, seed + 2);
  fs.writeFileSync(path.join(dir, 'in'), data);
  // Counts fs.read calls while stdinStream() is read to its end; prints the count and a digest of the bytes.
  const probe = `
    import fs from 'node:fs';
    import { createHash } from 'node:crypto';
    const { stdinStream } = await import(${JSON.stringify(path.join(root, 'dist', 'cli', 'commands', 'filters.js'))});
    const read = fs.read;
    let calls = 0;
    fs.read = (...a) => (calls++, read(...a));
    const hash = createHash('sha256');
    for await (const c of stdinStream()) hash.update(c);
    process.stdout.write(JSON.stringify({ calls, sha: hash.digest('hex') }));`;
  const r = spawnSync('bash', ['-c', `{ dd bs=7 count=1 of=/dev/null status=none; "${process.execPath}" --input-type=module -e "$PROBE"; } < ${path.join(dir, 'in')}`], {
    encoding: 'utf8',
    env: { ...process.env, PROBE: probe },
    timeout: 60_000,
  });
  t.equal(r.status, 0, r.stderr);
  const { createHash } = await import('node:crypto');
  t.same(JSON.parse(r.stdout), { calls: 0, sha: createHash('sha256').update(data.subarray(7)).digest('hex') }, 'no fs.read; the bytes after the 7 read before');
});
