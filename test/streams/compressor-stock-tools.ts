/**
 * Compressor output is a plain .zst / .lz4 stream: `zstd -d` and `lz4 -d` decompress it to
 * exactly the input, whatever the block count, with or without a CrcFooter trailer after it
 * (the trailer is a skippable frame the tools pass over).
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { createWriteStream, rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { Compressor, CrcFooter, CRC_TRAILER_SIZE, type CodecName } from '../../lib/index.js';
import { mulberry32 } from '../fixtures/random.js';

const run = promisify(execFile);


/** Half text-like, half random bytes, so frames hold both compressed and raw zstd blocks. */
function sample(size: number, seed: number): Buffer {
  const rand = mulberry32(seed);
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) {
    out[i] = (i >> 12) % 2 === 0 ? 0x61 + ((i * 7 + (i >> 5)) % 23) : Math.floor(rand() * 256);
  }
  return out;
}

/** Feeds `data` in uneven chunks. */
function* chunks(data: Buffer, seed: number): Generator<Buffer> {
  const rand = mulberry32(seed);
  for (let at = 0; at < data.length; ) {
    const n = 1 + Math.floor(rand() * 100_000);
    yield data.subarray(at, at + n);
    at += n;
  }
}

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'snapstream-stock-compress-'));
// On every exit, also one cut short by a failure.
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const BLOCK = 64 * 1024;
const inputs: Array<[string, Buffer]> = [
  ['empty', Buffer.alloc(0)],
  ['1 byte', Buffer.from([0x7f])],
  ['exactly one block', sample(BLOCK, 1)],
  ['several blocks and a partial one', sample(BLOCK * 5 + 17, 2)],
  ['1.5 MiB', sample(1536 * 1024 + 3, 3)],
];
const codecs: Array<{ codec: CodecName; level?: number; cmd: string }> = [
  { codec: 'zstd', cmd: 'zstd' },
  { codec: 'zstd', level: 9, cmd: 'zstd' },
  { codec: 'zstd', level: -5, cmd: 'zstd' },
  { codec: 'lz4', cmd: 'lz4' },
  { codec: 'none', cmd: 'zstd' },
];

let n = 0;
for (const { codec, level, cmd } of codecs) {
  for (const trailer of [false, true]) {
    t.test(`${cmd} -d reads Compressor ${codec}${level !== undefined ? ` level ${level}` : ''} output${trailer ? ' + CrcFooter' : ''}`, async (t) => {
      for (const [name, data] of inputs) {
        const file = path.join(tmp, `out-${n++}`);
        const footer = new CrcFooter();
        const stages: Array<NodeJS.ReadableStream | NodeJS.WritableStream> = [
          Readable.from(chunks(data, n)),
          new Compressor({ codec, blockSize: BLOCK, ...(level !== undefined ? { level } : {}) }),
          ...(trailer ? [footer] : []),
          createWriteStream(file),
        ];
        await pipeline(stages);
        if (trailer) {
          const written = await fs.readFile(file);
          t.equal(footer.length, written.length - CRC_TRAILER_SIZE, `${name}: trailer covers every byte before it`);
        }
        const { stdout } = await run(cmd, ['-d', '-c', '-q', file], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
        t.equal(stdout.length, data.length, `${name}: length`);
        t.ok(stdout.equals(data), `${name}: exactly the input`);
      }
    });
  }
}
