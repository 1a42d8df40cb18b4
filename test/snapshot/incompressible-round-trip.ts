/**
 * Data that does not compress (random bytes: already compressed or encrypted state) and mixed
 * data (values half random bytes, half text) round-trip through every codec: compressFile and
 * the Decompressor, writeSnapshot and readSnapshot; and the stock `zstd -d` / `lz4 -d` read
 * both kinds of file back to the raw bytes.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import {
  compressFile,
  CrcVerifier,
  Decompressor,
  EntryEncoder,
  readSnapshot,
  writeSnapshot,
  type CodecName,
  type DecodedEntry,
  type Entry,
} from '../../lib/index.js';
import { mulberry32 } from '../fixtures/random.js';

const run = promisify(execFile);
const KiB = 1024;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'snapstream-incompressible-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
const codecs: Array<{ codec: CodecName; tool: string }> = [
  { codec: 'zstd', tool: 'zstd' },
  { codec: 'lz4', tool: 'lz4' },
  { codec: 'none', tool: 'zstd' },
];

function random(size: number, rand: () => number): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

/** `count` entries whose values are random bytes (`half`: half random bytes, then half text). */
function entries(count: number, seed: number, half: boolean): Entry[] {
  const rand = mulberry32(seed);
  return Array.from({ length: count }, (_, i) => {
    const size = i % 50 === 7 ? 200 * KiB : 16 + Math.floor(rand() * 3000);
    const value = random(size, rand);
    if (half) value.fill(`text of entry ${i}, `, size >>> 1);
    return { key: `key:${String(i).padStart(8, '0')}`, value };
  });
}

async function encodeRaw(list: Entry[]): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(list), new EntryEncoder(), new Writable({ write: (c: Buffer, _e, cb) => (out.push(c), cb()) }));
  return Buffer.concat(out);
}

async function stockDecompress(tool: string, file: string): Promise<Buffer> {
  const { stdout } = await run(tool, ['-d', '-c', '-q', file], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

const sets = [
  { name: 'random', list: entries(1500, 1, false) },
  { name: 'mixed', list: entries(1500, 2, true) },
];

for (const { name, list } of sets) {
  const raw = await encodeRaw(list);
  const rawFile = path.join(tmp, `${name}.raw`);
  fs.writeFileSync(rawFile, raw);

  for (const { codec, tool } of codecs) {
    t.test(`${name} bytes, ${codec}: compressFile → Decompressor and ${tool} -d`, async (t) => {
      const out = path.join(tmp, `${name}-${codec}.out`);
      const summary = await compressFile(rawFile, out, { codec, blockSize: 256 * KiB });
      t.equal(summary.bytesIn, raw.length);
      const back: Buffer[] = [];
      await pipeline(fs.createReadStream(out), new CrcVerifier(), new Decompressor(), new Writable({ write: (c: Buffer, _e, cb) => (back.push(c), cb()) }));
      t.ok(Buffer.concat(back).equals(raw), 'the Decompressor gives back the input');
      t.ok((await stockDecompress(tool, out)).equals(raw), `${tool} -d gives back the input`);
    });

    t.test(`${name} entries, ${codec}: writeSnapshot → readSnapshot and ${tool} -d`, async (t) => {
      const file = path.join(tmp, `${name}-${codec}.snap`);
      await writeSnapshot(list, file, { codec, blockSize: 256 * KiB });
      const back: DecodedEntry[] = [];
      for await (const e of readSnapshot(file)) back.push(e as DecodedEntry);
      t.equal(back.length, list.length);
      t.ok(
        back.every((e, i) => e.key === list[i]!.key && Buffer.compare(e.value as Buffer, list[i]!.value as Buffer) === 0),
        'every entry read back',
      );
      t.ok((await stockDecompress(tool, file)).equals(raw), `${tool} -d gives the encoded entries`);
    });
  }
}
