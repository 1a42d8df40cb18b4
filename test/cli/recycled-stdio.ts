/**
 * `decompress < FILE > OUT` and `verify < FILE > OUT` read their input into a ring of reused
 * buffers (lib/cli/recycled-stdio.ts). A buffer is reused only once the writer has written a view
 * of a later one, so no view a stage passed on is ever overwritten: the output is exact for any
 * mix of stored and compressed frames, zstd and LZ4, skippable frames and trailers; stored data
 * is read with no fresh buffer at all; compressed data falls back to fresh ones; the input is read
 * from where its offset stands; a pipe on stdout still gets Node's own stdout.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { compressFile, CrcVerifier, Decompressor, sampleEntries, EntryEncoder } from '../../lib/index.js';
import { FdWriter, ReadRing, RECYCLED_READ_SIZE, RingReader, writableByFd } from '../../lib/cli/recycled-stdio.js';
import { root } from '../fixtures/built-dist.js';
import { randomBytesSeeded, testSeed } from '../fixtures/random.js';

const cli = `${process.execPath} ${path.join(root, 'dist', 'cli', 'main.js')}`;
const sh = (cmd: string) => spawnSync('bash', ['-o', 'pipefail', '-c', cmd], { encoding: 'buffer', maxBuffer: 1 << 27, timeout: 120_000 });

const seed = testSeed(t, 0x5717d10);

/** Encoded sample entries: bytes that compress. */
async function textBytes(size: number): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    sampleEntries({ bytes: size }),
    new EntryEncoder(),
    new Writable({
      write(c: Buffer, _e, cb) {
        out.push(c);
        cb();
      },
    }),
  );
  return Buffer.concat(out);
}

t.test('the ring: eight buffers, then fresh memory; a written view of a later buffer frees the earlier ones', async (t) => {
  const ring = new ReadRing(1024);
  const got = Array.from({ length: 10 }, () => ring.next());
  t.same(got.map((g) => g.seq), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  t.equal(ring.fresh, 2, 'all eight in flight: the ninth and tenth reads get fresh memory');
  ring.written(got[8]!.buf.subarray(0, 10));
  t.equal(ring.next().buf.buffer === got[0]!.buf.buffer, false, 'a fresh buffer written frees nothing');
  ring.written(got[3]!.buf.subarray(100, 200));
  const reused = [ring.next(), ring.next(), ring.next(), ring.next()];
  t.same(
    reused.slice(0, 3).map((r) => got.findIndex((g) => g.buf.buffer === r.buf.buffer)),
    [0, 1, 2],
    'a view of buffer 3 written: buffers 0–2 are free again, and reused',
  );
  t.equal(got.findIndex((g) => g.buf.buffer === reused[3]!.buf.buffer), -1, 'buffer 3 itself is not: more of it may come');
  ring.written(got[3]!.buf);
  t.equal(got.findIndex((g) => g.buf.buffer === ring.next().buf.buffer), -1, 'nor by a view of its own');
});

t.test('written by descriptor: a regular file or /dev/null, never a pipe or a closed descriptor', async (t) => {
  const dir = t.testdir();
  const file = fs.openSync(path.join(dir, 'out'), 'w');
  const devNull = fs.openSync('/dev/null', 'w');
  t.teardown(() => [file, devNull].forEach((fd) => fs.closeSync(fd)));
  t.equal(writableByFd(file), true);
  t.equal(writableByFd(devNull), true);
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import { writableByFd } from ${JSON.stringify(path.join(root, 'dist', 'cli', 'recycled-stdio.js'))}; process.stderr.write(String(writableByFd(1)))`], {
    encoding: 'utf8',
  });
  t.equal(r.stderr, 'false', 'stdout a pipe');
  t.equal(writableByFd(987_654), false, 'no such descriptor');
});

/** `stages` from a file through a ring to another file, in this process; the ring's fresh reads. */
async function throughRing(input: string, output: string, stages: () => NodeJS.ReadWriteStream[]): Promise<number> {
  const ring = new ReadRing();
  const inFd = fs.openSync(input, 'r');
  const outFd = fs.openSync(output, 'w');
  try {
    await pipeline([new RingReader(inFd, ring), ...stages(), new FdWriter(outFd, ring)] as unknown as [NodeJS.ReadableStream, NodeJS.WritableStream]);
  } finally {
    fs.closeSync(inFd);
    fs.closeSync(outFd);
  }
  return ring.fresh;
}

t.test('stored frames are read with no fresh buffer; compressed ones fall back to fresh buffers; output exact', async (t) => {
  const dir = t.testdir();
  const random = randomBytesSeeded(6 * 1024 * 1024 + 77, seed);
  const text = await textBytes(12 * 1024 * 1024);
  const cases: [string, Buffer, 'zstd' | 'lz4' | 'none', boolean][] = [
    ['random, zstd (stored frames)', random, 'zstd', true],
    ['random, lz4 (stored blocks)', random, 'lz4', true],
    ['random, none', random, 'none', true],
    ['text, zstd (compressed frames)', text, 'zstd', false],
    ['text, lz4', text, 'lz4', false],
  ];
  for (const [name, raw, codec, stored] of cases) {
    fs.writeFileSync(path.join(dir, 'raw'), raw);
    await compressFile(path.join(dir, 'raw'), path.join(dir, 'c'), { codec, blockSize: 1024 * 1024 });
    const fresh = await throughRing(path.join(dir, 'c'), path.join(dir, 'out'), () => [new CrcVerifier(), new Decompressor()]);
    t.ok(fs.readFileSync(path.join(dir, 'out')).equals(raw), `${name}: the bytes back`);
    if (stored) t.equal(fresh, 0, `${name}: every read into the ring`);
    else t.ok(fresh > 0, `${name}: fresh buffers where no view vouches for a buffer`);
  }
});

t.test('decompress and verify < FILE > OUT: a mix of frames, read from the offset stdin stands at', async (t) => {
  const dir = t.testdir();
  const random = randomBytesSeeded(3 * RECYCLED_READ_SIZE + 5, seed + 1);
  const text = await textBytes(2 * 1024 * 1024);
  const parts: Buffer[] = [];
  const expected: Buffer[] = [];
  // Frames of every kind in turn, each file's CRC trailer a skippable frame the Decompressor skips.
  for (const [raw, codec] of [
    [random, 'zstd'],
    [text, 'zstd'],
    [random, 'lz4'],
    [text, 'lz4'],
    [random.subarray(0, 100_000), 'none'],
    [random, 'zstd'],
  ] as [Buffer, 'zstd' | 'lz4' | 'none'][]) {
    fs.writeFileSync(path.join(dir, 'raw'), raw);
    await compressFile(path.join(dir, 'raw'), path.join(dir, 'c'), { codec, blockSize: 256 * 1024 });
    parts.push(fs.readFileSync(path.join(dir, 'c')));
    expected.push(raw);
  }
  fs.writeFileSync(path.join(dir, 'in.zst'), Buffer.concat([Buffer.from('JUNK!'), ...parts]));
  const r = sh(`{ dd bs=5 count=1 of=/dev/null status=none; ${cli} decompress > ${dir}/out; } < ${dir}/in.zst`);
  t.equal(r.status, 0, r.stderr.toString());
  t.ok(fs.readFileSync(path.join(dir, 'out')).equals(Buffer.concat(expected)), 'decompress into a file: every frame’s bytes');
  const junk = sh(`${cli} decompress < ${dir}/in.zst > /dev/null`);
  t.equal(junk.status, 3, 'the junk in front is refused');
  t.match(junk.stderr.toString(), /unknown frame magic .* at byte 0 \[SNAP_ERR_FORMAT\]/);
  const piped = sh(`tail -c +6 ${dir}/in.zst > ${dir}/clean.zst && ${cli} decompress < ${dir}/clean.zst | cat`);
  t.equal(piped.status, 0, piped.stderr.toString());
  t.ok(piped.stdout.equals(Buffer.concat(expected)), 'into a pipe: Node’s own stdout, the same bytes');

  const one = parts[0]!;
  fs.writeFileSync(path.join(dir, 'one.zst'), one);
  const v = sh(`${cli} verify < ${dir}/one.zst > ${dir}/verified`);
  t.equal(v.status, 0, v.stderr.toString());
  t.ok(fs.readFileSync(path.join(dir, 'verified')).equals(one.subarray(0, one.length - 24)), 'verify into a file: the bytes without their trailer');
  one[one.length - 30]! ^= 0x04;
  fs.writeFileSync(path.join(dir, 'one.zst'), one);
  const bad = sh(`${cli} verify < ${dir}/one.zst > ${dir}/verified`);
  t.equal(bad.status, 3);
  t.match(bad.stderr.toString(), /SNAP_ERR_CHECKSUM/);
});
