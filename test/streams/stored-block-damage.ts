/**
 * A flipped byte inside a stored block (data that does not compress: zstd raw blocks, LZ4
 * uncompressed blocks, codec none) is passed on as it is by the Decompressor, which decodes
 * nothing there; the CRC trailer still catches it. CrcVerifier + Decompressor, `verify FILE` and
 * `verify < FILE > OUT` fail with the typed corruption error (SNAP_ERR_CHECKSUM, exit 3).
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { compressFile, createCrcVerifier, createDecompressor, isCorruptionError, type CodecName } from '../../lib/index.js';
import { root } from '../fixtures/built-dist.js';
import { mulberry32, randomBytesSeeded, testSeed } from '../fixtures/random.js';

const cli = path.join(root, 'dist', 'cli', 'main.js');
const seed = testSeed(t, 0xf11bbed);
const rand = mulberry32(seed);

for (const codec of ['zstd', 'lz4', 'none'] as CodecName[]) {
  t.test(`${codec}: a byte flipped inside a stored block`, async (t) => {
    const dir = t.testdir();
    const raw = randomBytesSeeded(3 * 1024 * 1024 + 9, seed);
    fs.writeFileSync(path.join(dir, 'raw'), raw);
    const file = path.join(dir, 'c');
    await compressFile(path.join(dir, 'raw'), file, { codec });
    const bytes = fs.readFileSync(file);
    // Inside the second frame's content: every block there is stored, so the byte is content.
    const at = 1024 * 1024 + 1000 + Math.floor(rand() * 100_000);
    bytes[at]! ^= 0x10;
    fs.writeFileSync(file, bytes);
    // Without the CRC, the damage passes as content: one byte of the output differs.
    const out: Buffer[] = [];
    await pipeline(fs.createReadStream(file), createDecompressor(), new Writable({ write: (c: Buffer, _e, cb) => (out.push(c), cb()) }));
    const got = Buffer.concat(out);
    t.equal(got.length, raw.length, 'the Decompressor alone: as many bytes');
    let differ = 0;
    for (let i = 0; i < raw.length; i++) if (got[i] !== raw[i]) differ++;
    t.equal(differ, 1, 'the Decompressor alone: one byte differs (stored content, nothing decoded)');

    const err = await pipeline(fs.createReadStream(file), createCrcVerifier(), createDecompressor(), new Writable({ write: (_c, _e, cb) => cb() })).then(
      () => null,
      (e: unknown) => e,
    );
    t.match(err, { code: 'SNAP_ERR_CHECKSUM' }, 'CrcVerifier + Decompressor: a checksum error');
    t.ok(isCorruptionError(err), 'corruption');

    const verify = spawnSync(process.execPath, [cli, 'verify', file], { encoding: 'utf8', timeout: 60_000 });
    t.equal(verify.status, 3, 'verify FILE: exit 3');
    t.match(verify.stderr, /SNAP_ERR_CHECKSUM/);
    const stdin = fs.openSync(file, 'r');
    const stdout = fs.openSync(path.join(dir, 'out'), 'w');
    const filter = spawnSync(process.execPath, [cli, 'verify'], { encoding: 'utf8', timeout: 60_000, stdio: [stdin, stdout, 'pipe'] });
    fs.closeSync(stdin);
    fs.closeSync(stdout);
    t.equal(filter.status, 3, 'verify < FILE > OUT: exit 3');
    t.match(filter.stderr, /SNAP_ERR_CHECKSUM/);
  });
}
