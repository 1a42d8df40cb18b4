/**
 * crc32 (lib/format/crc32.ts) is CRC-32/IEEE: it equals Node's zlib.crc32, the `crc-32`
 * package and Python's zlib.crc32 for the same bytes; it continues from a previous CRC; and
 * crc32Combine gives the CRC of a concatenation from the CRCs of its parts.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import { crc32, crc32Implementation } from '../../lib/index.js';
import { crc32Combine, crc32Portable } from '../../lib/format/crc32.js';
import { mulberry32, randomBytesSeeded, testSeed } from '../fixtures/random.js';

const require = createRequire(import.meta.url);
const CRC32 = require('crc-32') as { buf(data: Uint8Array, seed?: number): number };
const nodeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** Python's zlib.crc32 of each input, all in one interpreter run (inputs go in via stdin). */
function pythonCrc32(inputs: Buffer[]): number[] {
  const script = [
    'import sys, zlib, struct',
    'data = sys.stdin.buffer.read()',
    'at = 0',
    'while at < len(data):',
    '    (n,) = struct.unpack_from("<I", data, at)',
    '    at += 4',
    '    print(zlib.crc32(data[at:at + n]))',
    '    at += n',
  ].join('\n');
  const framed = Buffer.concat(
    inputs.flatMap((b) => {
      const len = Buffer.alloc(4);
      len.writeUInt32LE(b.length);
      return [len, b];
    }),
  );
  const r = spawnSync('python3', ['-c', script], { input: framed, encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  return r.stdout.trim().split('\n').map(Number);
}

const seed = testSeed(t, 0xc3c32);
const randomBytes = (n: number, salt: number): Buffer => randomBytesSeeded(n, seed + salt);

const inputs: [string, Buffer][] = [
  ['empty', Buffer.alloc(0)],
  ['one zero byte', Buffer.from([0])],
  ['one 0xff byte', Buffer.from([0xff])],
  ['"123456789" (the CRC-32 check input)', Buffer.from('123456789', 'ascii')],
  ['4 KiB of zeros', Buffer.alloc(4096)],
  ['1000 random bytes', randomBytes(1000, 1)],
  ['1 MiB random', randomBytes(1024 * 1024, 2)],
  ['1 MiB + 3 random', randomBytes(1024 * 1024 + 3, 3)],
];

t.test('known check values', async (t) => {
  t.equal(crc32(Buffer.alloc(0)), 0);
  t.equal(crc32(Buffer.from('123456789')), 0xcbf43926, 'the catalogued CRC-32/IEEE check value');
  t.equal(crc32(Buffer.from('The quick brown fox jumps over the lazy dog')), 0x414fa339);
  t.equal(crc32(Buffer.from([0xff, 0xff, 0xff, 0xff])), 0xffffffff);
});

t.test('uses zlib.crc32 where Node has it', async (t) => {
  t.equal(crc32Implementation, nodeCrc32 ? 'zlib' : 'crc-32');
});

t.test('equals zlib.crc32, the crc-32 package and Python zlib.crc32', async (t) => {
  const py = pythonCrc32(inputs.map(([, b]) => b));
  t.equal(py.length, inputs.length, 'python answered for every input');
  inputs.forEach(([name, bytes], i) => {
    const ours = crc32(bytes);
    t.ok(Number.isInteger(ours) && ours >= 0 && ours <= 0xffffffff, `${name}: an unsigned 32-bit value`);
    if (nodeCrc32) t.equal(ours, nodeCrc32(bytes), `${name}: zlib.crc32`);
    t.equal(ours, CRC32.buf(bytes) >>> 0, `${name}: crc-32 package`);
    t.equal(ours, crc32Portable(bytes, 0), `${name}: portable implementation`);
    t.equal(ours, py[i], `${name}: python zlib.crc32`);
  });
});

t.test('takes Uint8Array as well as Buffer', async (t) => {
  const b = randomBytes(777, 4);
  const u = new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
  t.equal(crc32(u), crc32(b));
});

t.test('continues from a previous CRC: crc32(b, crc32(a)) === crc32(a‖b)', async (t) => {
  const whole = randomBytes(100_000, 5);
  for (const cut of [0, 1, 2, 3, 4, 5, 7, 8, 9, 63, 64, 65, 4096, 50_000, 99_999, 100_000]) {
    const a = whole.subarray(0, cut);
    const b = whole.subarray(cut);
    t.equal(crc32(b, crc32(a)), crc32(whole), `cut at ${cut}`);
    t.equal(crc32Portable(b, crc32Portable(a, 0)), crc32(whole), `portable, cut at ${cut}`);
  }
  // Three pieces, chained.
  const p1 = whole.subarray(0, 10);
  const p2 = whole.subarray(10, 70_000);
  const p3 = whole.subarray(70_000);
  t.equal(crc32(p3, crc32(p2, crc32(p1))), crc32(whole), 'three pieces');
});

t.test('crc32Combine(crc(A), crc(B), |B|) === crc(A‖B)', async (t) => {
  const whole = randomBytes(300_000, 6);
  const rand = mulberry32(seed + 7);
  const cuts = [0, 1, 2, whole.length - 1, whole.length];
  for (let i = 0; i < 40; i++) cuts.push(Math.floor(rand() * (whole.length + 1)));
  for (const cut of cuts) {
    const a = whole.subarray(0, cut);
    const b = whole.subarray(cut);
    t.equal(crc32Combine(crc32(a), crc32(b), b.length), crc32(whole), `cut at ${cut}`);
  }
  t.equal(crc32Combine(0, 0, 0), 0, 'empty ‖ empty');
  t.equal(crc32Combine(crc32(whole), 0, 0), crc32(whole), 'A ‖ empty is A');
  // Zero bytes are not free: A‖000 differs from A, and combine must know |B|.
  const zeros = Buffer.alloc(1000);
  t.equal(crc32Combine(crc32(whole), crc32(zeros), zeros.length), crc32(Buffer.concat([whole, zeros])), 'A ‖ zeros');
  t.not(crc32Combine(crc32(whole), crc32(zeros), zeros.length), crc32(whole));
});

t.test('crc32Combine over a large |B| (beyond 2^32 bits)', async (t) => {
  // |B| of 600 MiB of zeros: compare against the continuation over zeros, built in 1 MiB steps.
  const mib = Buffer.alloc(1024 * 1024);
  const a = randomBytes(100, 8);
  let running = crc32(a);
  let zerosCrc = 0;
  for (let i = 0; i < 600; i++) {
    running = crc32(mib, running);
    zerosCrc = crc32(mib, zerosCrc);
  }
  t.equal(crc32Combine(crc32(a), zerosCrc, 600 * mib.length), running);
});
