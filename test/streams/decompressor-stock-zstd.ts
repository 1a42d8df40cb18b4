/**
 * The Decompressor reads .zst files made by the stock `zstd` tool: any level, with or without
 * a content size (stdin) or checksum, several frames one after another, from 0 bytes to beyond
 * WHOLE_FRAME_LIMIT (where frames are decoded incrementally instead of whole), fed in chunks
 * of any size.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { Decompressor } from '../../lib/index.js';
import { WHOLE_FRAME_LIMIT } from '../../lib/streams/decompressor.js';
import { decompressInChunks, textWithNoise } from '../fixtures/random.js';

const run = promisify(execFile);



const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'snapstream-stock-zstd-'));
// On every exit, also one cut short by a failure.
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const LARGE = WHOLE_FRAME_LIMIT + 1024 * 1024 + 12345;
const inputs = new Map<string, Buffer>([
  ['0 B', Buffer.alloc(0)],
  ['1 B', Buffer.from('x')],
  ['1000 B', textWithNoise(1000, 1, 13)],
  ['300 KiB', textWithNoise(300 * 1024 + 7, 2, 13)],
  ['> 16 MiB', textWithNoise(LARGE, 3, 13)],
]);
const inputFiles = new Map<string, string>();
for (const [name, data] of inputs) {
  const file = path.join(tmp, `in-${inputFiles.size}`);
  await fs.writeFile(file, data);
  inputFiles.set(name, file);
}

/** Runs `zstd <args>` on the file (or on stdin) and returns the compressed bytes. */
async function zstd(args: string[], name: string, stdin = false): Promise<Buffer> {
  const file = inputFiles.get(name)!;
  const cmd = stdin ? ['sh', ['-c', `zstd -q -c ${args.join(' ')} < "${file}"`]] : ['zstd', ['-q', '-c', ...args, file]];
  const { stdout } = await run(cmd[0] as string, cmd[1] as string[], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** Frame header descriptor facts, to prove which path a file takes. */
function hasContentSize(frame: Buffer): boolean {
  const fhd = frame[4]!;
  return fhd >>> 6 !== 0 || ((fhd >>> 5) & 1) === 1;
}

/** Chunk patterns: whole, 1-byte (small inputs only), odd fixed and random sizes. */
function patterns(size: number): number[] {
  return size <= 4096 ? [1 << 30, 1, 7, 4093] : [1 << 30, 65537, -300_000];
}

const variants: Array<{ name: string; args: string[]; stdin?: boolean; sizes?: string[] }> = [
  { name: 'zstd -1', args: ['-1'] },
  { name: 'zstd -19', args: ['-19'], sizes: ['0 B', '1 B', '1000 B', '300 KiB'] },
  { name: 'zstd from stdin (no content size)', args: ['-3'], stdin: true },
  { name: 'zstd --no-check', args: ['-1', '--no-check'] },
  { name: 'zstd --no-check from stdin', args: ['-1', '--no-check'], stdin: true, sizes: ['1000 B', '300 KiB'] },
];

for (const v of variants) {
  t.test(`Decompressor reads ${v.name} output`, async (t) => {
    for (const name of v.sizes ?? [...inputs.keys()]) {
      const data = inputs.get(name)!;
      const file = await zstd(v.args, name, v.stdin);
      // (zstd writes an empty input as a frame declaring size 0, stdin or not.)
      if (data.length > 0) t.equal(hasContentSize(file), !v.stdin, `${name}: content size ${v.stdin ? 'absent' : 'present'}`);
      for (const size of patterns(data.length)) {
        const out = await decompressInChunks(file, size);
        t.ok(out.length === data.length && out.equals(data), `${name} in chunks of ${size < 0 ? `up to ${-size}` : size}`);
      }
    }
  });
}

t.test('the large-frame path is taken for frames over WHOLE_FRAME_LIMIT', async (t) => {
  const file = await zstd(['-1'], '> 16 MiB');
  const fhd = file[4]!;
  t.equal(fhd >>> 6, 2, 'the frame declares a four-byte content size');
  const fcsAt = 5 + ((fhd >>> 5) & 1 ? 0 : 1) + [0, 1, 2, 4][fhd & 3]!;
  t.equal(file.readUInt32LE(fcsAt), LARGE, 'of the whole input, over the limit');
  // The whole path would need a buffer the size of the content; the streaming path emits in
  // pieces as input arrives, long before the end of the frame.
  const d = new Decompressor();
  const out: Buffer[] = [];
  d.on('data', (b: Buffer) => out.push(b));
  const half = file.subarray(0, file.length >> 1);
  await new Promise<void>((resolve) => d.write(half, () => resolve()));
  await new Promise((resolve) => setImmediate(resolve));
  t.ok(out.length > 0, 'output flows before the frame is complete');
  t.ok(Buffer.concat(out).length < LARGE, 'and is only part of the content');
  d.end(file.subarray(half.length));
  await new Promise((resolve) => d.on('end', resolve));
  t.ok(Buffer.concat(out).equals(inputs.get('> 16 MiB')!), 'then all of it');
});

t.test('Decompressor reads several concatenated zstd frames', async (t) => {
  const parts = [
    await zstd(['-1'], '300 KiB'),
    await zstd(['-5'], '1000 B', true),
    await zstd(['-1'], '0 B'),
    await zstd(['-1'], '> 16 MiB'),
    await zstd(['-19', '--no-check'], '1 B'),
  ];
  const names = ['300 KiB', '1000 B', '0 B', '> 16 MiB', '1 B'];
  // Written with the tool and joined with cat, as a user would.
  const files: string[] = [];
  for (const [i, p] of parts.entries()) {
    files.push(path.join(tmp, `part-${i}.zst`));
    await fs.writeFile(files[i]!, p);
  }
  const { stdout: joined } = await run('cat', files, { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
  const expected = Buffer.concat(names.map((n) => inputs.get(n)!));
  const { stdout: byTool } = await run('zstd', ['-d', '-c', '-q', ...files], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
  t.ok(byTool.equals(expected), 'zstd -d agrees on what the joined file holds');
  for (const size of [1 << 30, 65537, -200_000]) {
    const out = await decompressInChunks(joined, size);
    t.ok(out.equals(expected), `all frames, in order, in chunks of ${size < 0 ? `up to ${-size}` : size}`);
  }
});

t.test('a small frame that expands hugely is decoded in bounded pieces, not whole', async (t) => {
  // 24 MiB of zeros: a few KiB of zstd, from a file (size declared) and from stdin (not).
  const size = 24 * 1024 * 1024;
  const zeros = path.join(tmp, 'zeros');
  await run('sh', ['-c', `head -c ${size} /dev/zero > "${zeros}"`]);
  for (const cmd of [`zstd -q -c -1 "${zeros}"`, `zstd -q -c -1 < "${zeros}"`]) {
    const { stdout: file } = await run('sh', ['-c', cmd], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
    t.ok(file.length < 64 * 1024, `${cmd}: a ${file.length}-byte frame`);
    let total = 0;
    let largest = 0;
    for await (const b of Readable.from([file]).pipe(new Decompressor())) {
      total += (b as Buffer).length;
      largest = Math.max(largest, (b as Buffer).length);
    }
    t.equal(total, size, 'all of it');
    t.ok(largest <= 4 * 1024 * 1024, `in pieces (largest ${largest})`);
  }
});
