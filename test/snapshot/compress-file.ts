/**
 * compressFile: a raw file → a standard .zst / .lz4 file with a CRC trailer. The stock tools
 * and the Decompressor read it back to exactly the input; it is byte for byte what the same
 * stages composed by hand around fs streams write (reading straight into reused shared memory
 * changes nothing); and a failure (a missing file, an abort, a full disk) leaves no partial
 * file and an older target as it was.
 */
import t from 'tap';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import {
  compressFile,
  Compressor,
  CrcFooter,
  CrcVerifier,
  CRC_TRAILER_SIZE,
  Decompressor,
  NoSpaceError,
  SnapstreamError,
  type CodecName,
} from '../../lib/index.js';
import { textWithNoise, seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x3a1a2874);

const run = promisify(execFile);
const BLOCK = 64 * 1024;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'snapstream-compress-file-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

let n = 0;
function input(bytes: Buffer): string {
  const file = path.join(tmp, `in-${n++}.bin`);
  fs.writeFileSync(file, bytes);
  return file;
}

async function decompress(file: string): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(fs.createReadStream(file), new CrcVerifier(), new Decompressor(), async function* (chunks) {
    for await (const c of chunks) out.push(c as Buffer);
  });
  return Buffer.concat(out);
}

const sizes: Array<[string, number]> = [
  ['empty', 0],
  ['1 byte', 1],
  ['exactly 3 blocks', 3 * BLOCK],
  // Many more blocks than the reused buffers: each is refilled many times over.
  ['40 blocks and a partial one', 40 * BLOCK + 1234],
];
const codecs: Array<{ codec: CodecName; tool: string }> = [
  { codec: 'zstd', tool: 'zstd' },
  { codec: 'lz4', tool: 'lz4' },
  { codec: 'none', tool: 'zstd' },
];

for (const { codec, tool } of codecs) {
  for (const [label, size] of sizes) {
    t.test(`${codec}, ${label}: the tools and the Decompressor read back the input`, async (t) => {
      const raw = textWithNoise(size, size + 1, 9);
      const target = path.join(tmp, `out-${n++}.${codec}`);
      const summary = await compressFile(input(raw), target, { codec, blockSize: BLOCK });
      const file = fs.readFileSync(target);
      t.same(summary, { path: target, bytesIn: size, bytesOut: file.length, crc: file.readUInt32LE(file.length - CRC_TRAILER_SIZE + 12) });
      t.notOk(fs.existsSync(`${target}.partial`), 'no partial left');
      const { stdout } = await run(tool, ['-d', '-c', '-q', target], { encoding: 'buffer', maxBuffer: 64 << 20 });
      t.ok(stdout.equals(raw), `${tool} -d gives the input`);
      t.ok((await decompress(target)).equals(raw), 'CrcVerifier + Decompressor give the input');
    });
  }
}

t.test('byte for byte what the stages composed around fs streams write', async (t) => {
  const raw = textWithNoise(25 * BLOCK + 99, 5, 9);
  const source = input(raw);
  for (const codec of ['zstd', 'lz4'] as const) {
    const ours = path.join(tmp, `recipe.${codec}`);
    const byHand = path.join(tmp, `by-hand.${codec}`);
    await compressFile(source, ours, { codec, blockSize: BLOCK, level: 3 });
    await pipeline(
      fs.createReadStream(source, { highWaterMark: 10_000 }),
      new Compressor({ codec, blockSize: BLOCK, level: 3 }),
      new CrcFooter(),
      fs.createWriteStream(byHand),
    );
    t.ok(fs.readFileSync(ours).equals(fs.readFileSync(byHand)), codec);
  }
});

t.test('crc: false writes the frames alone', async (t) => {
  const raw = textWithNoise(5 * BLOCK, 6, 9);
  const target = path.join(tmp, 'no-trailer.zst');
  const summary = await compressFile(input(raw), target, { blockSize: BLOCK, crc: false });
  t.equal(summary.crc, undefined);
  const out: Buffer[] = [];
  await pipeline(fs.createReadStream(target), new Decompressor(), async function* (chunks) {
    for await (const c of chunks) out.push(c as Buffer);
  });
  t.ok(Buffer.concat(out).equals(raw));
  await t.rejects(decompress(target), { code: 'SNAP_ERR_TRUNCATED' }, 'a CrcVerifier finds no trailer');
});

t.test('a missing source is SNAP_ERR_IO, and nothing is written', async (t) => {
  const target = path.join(tmp, 'never.zst');
  const err = await compressFile(path.join(tmp, 'no-such-file'), target).catch((e: unknown) => e);
  t.ok(err instanceof SnapstreamError, 'a SnapstreamError');
  t.equal((err as SnapstreamError).code, 'SNAP_ERR_IO');
  t.match((err as Error).message, /no-such-file/, 'naming the file');
  t.notOk(fs.existsSync(target));
  t.notOk(fs.existsSync(`${target}.partial`));
});

t.test('a missing target directory is SNAP_ERR_IO', async (t) => {
  const source = input(Buffer.from('some bytes'));
  await t.rejects(compressFile(source, path.join(tmp, 'no-dir', 'out.zst')), { code: 'SNAP_ERR_IO' });
});

t.test('aborted mid-way: AbortError, the older target untouched, no partial', async (t) => {
  const raw = textWithNoise(60 * BLOCK, 7, 9);
  const source = input(raw);
  const target = path.join(tmp, 'kept.zst');
  fs.writeFileSync(target, 'the older file');
  const ac = new AbortController();
  let reported = 0;
  const done = compressFile(source, target, {
    blockSize: BLOCK,
    signal: ac.signal,
    onProgress: (p) => {
      reported = p.bytes;
      if (p.bytes >= 10 * BLOCK) ac.abort();
    },
  });
  await t.rejects(done, { name: 'AbortError' });
  t.ok(reported >= 10 * BLOCK && reported < raw.length, `progress reported up to the abort (${reported})`);
  t.equal(fs.readFileSync(target, 'utf8'), 'the older file');
  t.notOk(fs.existsSync(`${target}.partial`));
});

t.test('bad arguments are SNAP_ERR_INVALID_ARGUMENT', async (t) => {
  const source = input(Buffer.from('x'));
  const target = path.join(tmp, 'bad.zst');
  await t.rejects(compressFile('', target), { code: 'SNAP_ERR_INVALID_ARGUMENT' });
  await t.rejects(compressFile(source, ''), { code: 'SNAP_ERR_INVALID_ARGUMENT' });
  await t.rejects(compressFile(source, target, { codec: 'gzip' as CodecName }), { code: 'SNAP_ERR_INVALID_ARGUMENT' });
  await t.rejects(compressFile(source, target, { blockSize: 0 }), { code: 'SNAP_ERR_INVALID_ARGUMENT' });
  await t.rejects(compressFile(source, target, { level: 99 }), { code: 'SNAP_ERR_INVALID_ARGUMENT' });
  t.notOk(fs.existsSync(target));
});

t.test('a full disk: SNAP_ERR_NO_SPACE, the older target untouched, the space given back', async (t) => {
  const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'snapstream-compress-enospc-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt]);
  t.teardown(() => {
    execFileSync('umount', [mnt]);
    fs.rmSync(mnt, { recursive: true, force: true });
  });
  const target = path.join(mnt, 'out.zst');
  fs.writeFileSync(target, 'the older file');
  const free = fs.statfsSync(mnt).bavail;
  // Random bytes do not compress: 12 MiB of them cannot fit in 4 MiB.
  const source = input(randomBytes(12 * 1024 * 1024));
  const err = await compressFile(source, target, { blockSize: BLOCK }).catch((e: unknown) => e);
  t.type(err, NoSpaceError);
  t.equal((err as NoSpaceError).code, 'SNAP_ERR_NO_SPACE');
  t.equal(fs.readFileSync(target, 'utf8'), 'the older file');
  t.notOk(fs.existsSync(`${target}.partial`), 'no partial left');
  t.equal(fs.statfsSync(mnt).bavail, free, 'every block given back');
});

t.test('an onProgress that throws fails the call with its error (no crash), leaving nothing', async (t) => {
  const source = input(textWithNoise(20 * BLOCK, 8, 9));
  const target = path.join(tmp, 'progress-throws.zst');
  const err = await compressFile(source, target, {
    blockSize: BLOCK,
    onProgress: (p) => {
      if (p.bytes >= 5 * BLOCK) throw new Error('the callback broke');
    },
  }).catch((e: unknown) => e);
  t.match(err, { message: /the callback broke/ });
  t.notOk(fs.existsSync(target));
  t.notOk(fs.existsSync(`${target}.partial`));
});
