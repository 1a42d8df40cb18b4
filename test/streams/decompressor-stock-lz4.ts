/**
 * The Decompressor reads .lz4 files made by the stock `lz4` tool: every block size, linked
 * blocks, block checksums, with and without content size and content checksum, stdin,
 * concatenated frames, from 0 bytes to beyond WHOLE_FRAME_LIMIT (where frames are decoded
 * incrementally), fed in chunks of any size. The legacy format (`lz4 -l`) is refused with
 * SNAP_ERR_UNSUPPORTED.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { Decompressor, SnapstreamError } from '../../lib/index.js';
import { WHOLE_FRAME_LIMIT } from '../../lib/streams/decompressor.js';
import { decompressInChunks, textWithNoise } from '../fixtures/random.js';

const run = promisify(execFile);



const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'snapstream-stock-lz4-'));
// On every exit, also one cut short by a failure.
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const LARGE = WHOLE_FRAME_LIMIT + 1024 * 1024 + 12345;
const inputs = new Map<string, Buffer>([
  ['0 B', Buffer.alloc(0)],
  ['1 B', Buffer.from('x')],
  ['1000 B', textWithNoise(1000, 1, 17)],
  ['300 KiB', textWithNoise(300 * 1024 + 7, 2, 17)],
  ['> 16 MiB', textWithNoise(LARGE, 3, 17)],
]);
const inputFiles = new Map<string, string>();
for (const [name, data] of inputs) {
  const file = path.join(tmp, `in-${inputFiles.size}`);
  await fs.writeFile(file, data);
  inputFiles.set(name, file);
}

/** Runs `lz4 <args>` on the file (or on stdin) and returns the compressed bytes. */
async function lz4(args: string[], name: string, stdin = false): Promise<Buffer> {
  const file = inputFiles.get(name)!;
  const [cmd, argv] = stdin
    ? ['sh', ['-c', `lz4 -q -c ${args.join(' ')} < "${file}"`]]
    : ['lz4', ['-q', '-c', ...args, file]];
  const { stdout } = await run(cmd as string, argv as string[], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** FLG and BD of an LZ4 frame, to prove the tool wrote what the case is about. */
function descriptor(frame: Buffer): { contentSize: boolean; contentChecksum: boolean; blockChecksum: boolean; linked: boolean; blockSizeId: number } {
  const flg = frame[4]!;
  return {
    contentSize: (flg & 0x08) !== 0,
    contentChecksum: (flg & 0x04) !== 0,
    blockChecksum: (flg & 0x10) !== 0,
    linked: (flg & 0x20) === 0,
    blockSizeId: (frame[5]! >>> 4) & 7,
  };
}

function patterns(size: number): number[] {
  return size <= 4096 ? [1 << 30, 1, 7, 4093] : [1 << 30, 65537, -300_000];
}

type Flags = ReturnType<typeof descriptor>;
const variants: Array<{ name: string; args: string[]; stdin?: boolean; sizes?: string[]; expect: Partial<Flags> }> = [
  { name: 'lz4 (defaults)', args: [], expect: { blockSizeId: 7, linked: false, contentChecksum: true, contentSize: false } },
  { name: 'lz4 -BD (linked blocks)', args: ['-BD'], expect: { linked: true } },
  { name: 'lz4 -BD -B4 (linked 64 KiB blocks)', args: ['-BD', '-B4'], expect: { linked: true, blockSizeId: 4 } },
  { name: 'lz4 -BX (block checksums)', args: ['-BX'], expect: { blockChecksum: true } },
  { name: 'lz4 --no-frame-crc', args: ['--no-frame-crc'], expect: { contentChecksum: false } },
  { name: 'lz4 --content-size', args: ['--content-size'], expect: { contentSize: true } },
  { name: 'lz4 -B4', args: ['-B4'], expect: { blockSizeId: 4 } },
  { name: 'lz4 -B5', args: ['-B5'], expect: { blockSizeId: 5 } },
  { name: 'lz4 -B6', args: ['-B6'], expect: { blockSizeId: 6 } },
  { name: 'lz4 -B7 -9', args: ['-B7', '-9'], expect: { blockSizeId: 7 }, sizes: ['1000 B', '300 KiB'] },
  { name: 'lz4 from stdin', args: ['-1'], stdin: true, expect: { contentSize: false } },
  { name: 'lz4 -BD -BX --no-frame-crc from stdin', args: ['-BD', '-BX', '--no-frame-crc'], stdin: true, expect: { linked: true, blockChecksum: true, contentChecksum: false } },
];

for (const v of variants) {
  t.test(`Decompressor reads ${v.name} output`, async (t) => {
    for (const name of v.sizes ?? [...inputs.keys()]) {
      const data = inputs.get(name)!;
      const file = await lz4(v.args, name, v.stdin);
      // (For content that fits one block the tool shrinks the block size and drops linking; for
      // the large input it writes what it was asked for.)
      t.equal(file.readUInt32LE(0), 0x184d2204, `${name}: an LZ4 frame`);
      if (data.length === LARGE) {
        const flags = descriptor(file);
        for (const [k, want] of Object.entries(v.expect)) t.equal(flags[k as keyof Flags], want, `${name}: ${k}`);
      }
      for (const size of patterns(data.length)) {
        const out = await decompressInChunks(file, size);
        t.ok(out.length === data.length && out.equals(data), `${name} in chunks of ${size < 0 ? `up to ${-size}` : size}`);
      }
    }
  });
}

t.test('the large-frame path emits output before a frame over WHOLE_FRAME_LIMIT is complete', async (t) => {
  for (const args of [[], ['-BD'], ['--content-size', '-B4']]) {
    const file = await lz4(args, '> 16 MiB');
    t.ok(file.length < WHOLE_FRAME_LIMIT, `lz4 ${args.join(' ')}: the frame itself is smaller than the limit (${file.length} bytes)`);
    const d = new Decompressor();
    const out: Buffer[] = [];
    d.on('data', (b: Buffer) => out.push(b));
    // A frame decoded whole gives nothing before its last byte; a streamed one gives its blocks.
    const cut = file.length - 100;
    await new Promise<void>((resolve) => d.write(file.subarray(0, cut), () => resolve()));
    await new Promise((resolve) => setImmediate(resolve));
    const early = Buffer.concat(out).length;
    t.ok(early > 0 && early < LARGE, `lz4 ${args.join(' ')}: ${early} bytes out before the frame's last bytes arrived`);
    d.end(file.subarray(cut));
    await new Promise((resolve) => d.on('end', resolve));
    t.ok(Buffer.concat(out).equals(inputs.get('> 16 MiB')!), 'then all of it');
  }
});

t.test('Decompressor reads concatenated lz4 frames', async (t) => {
  const specs: Array<[string[], string, boolean]> = [
    [['-BD'], '300 KiB', false],
    [[], '0 B', false],
    [['--content-size', '-BX'], '1000 B', false],
    [[], '> 16 MiB', true],
    [['-B4'], '1 B', true],
    [['-BD', '-B5'], '300 KiB', true],
  ];
  const files: string[] = [];
  for (const [i, [args, name, stdin]] of specs.entries()) {
    files.push(path.join(tmp, `part-${i}.lz4`));
    await fs.writeFile(files[i]!, await lz4(args, name, stdin));
  }
  const { stdout: joined } = await run('cat', files, { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
  const expected = Buffer.concat(specs.map(([, n]) => inputs.get(n)!));
  const joinedFile = path.join(tmp, 'joined.lz4');
  await fs.writeFile(joinedFile, joined);
  const { stdout: byTool } = await run('lz4', ['-d', '-c', '-q', joinedFile], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
  t.ok(byTool.equals(expected), 'lz4 -d agrees on what the joined file holds');
  for (const size of [1 << 30, 65537, -200_000]) {
    const out = await decompressInChunks(joined, size);
    t.ok(out.equals(expected), `all frames, in order, in chunks of ${size < 0 ? `up to ${-size}` : size}`);
  }
});

t.test('a legacy lz4 -l file is refused with SNAP_ERR_UNSUPPORTED', async (t) => {
  for (const name of ['1000 B', '300 KiB']) {
    const file = await lz4(['-l'], name);
    t.equal(file.readUInt32LE(0), 0x184c2102, 'the tool wrote the legacy magic');
    for (const size of [1 << 30, 3]) {
      const err = await decompressInChunks(file, size).then(
        () => null,
        (e: unknown) => e,
      );
      t.type(err, SnapstreamError, `${name}: a SnapstreamError`);
      t.equal((err as SnapstreamError | null)?.code, 'SNAP_ERR_UNSUPPORTED', `${name}: code (chunks of ${size})`);
    }
  }
});

t.test('a small frame that expands hugely is decoded in bounded pieces, not whole', async (t) => {
  // 24 MiB of zeros: about 100 KiB of LZ4, under every limit, yet 24 MiB if decoded whole.
  const size = 24 * 1024 * 1024;
  for (const args of ['', '-BD', '--content-size -B4']) {
    const { stdout: file } = await run('sh', ['-c', `head -c ${size} /dev/zero | lz4 -q -c ${args}`], {
      encoding: 'buffer',
      maxBuffer: 64 * 1024 * 1024,
    });
    t.ok(file.length < 1024 * 1024, `lz4 ${args}: a ${file.length}-byte frame`);
    let total = 0;
    let largest = 0;
    let nonZero = false;
    for await (const b of Readable.from([file]).pipe(new Decompressor())) {
      const chunk = b as Buffer;
      total += chunk.length;
      largest = Math.max(largest, chunk.length);
      if (!nonZero && chunk.some((x) => x !== 0)) nonZero = true;
    }
    t.equal(total, size, 'all of it');
    t.notOk(nonZero, 'zeros only');
    t.ok(largest <= 8 * 1024 * 1024, `in pieces of about one LZ4 block (largest ${largest})`);
  }
});
