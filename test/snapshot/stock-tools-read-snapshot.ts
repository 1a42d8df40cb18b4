/**
 * A snapshot file is a valid .zst / .lz4 file: the stock `zstd -d` and `lz4 -d` tools
 * decompress it to exactly the raw encoded entry stream (what EntryEncoder makes of the same
 * entries), passing over the header, block header and footer frames.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { EntryEncoder, writeSnapshot, type CodecName, type Entry } from '../../lib/index.js';
import { mulberry32 } from '../fixtures/random.js';

const run = promisify(execFile);


/** About 1.5 MiB of mixed entries: text and binary, with and without expiry, one larger than a block. */
function makeEntries(count: number, seed: number): Entry[] {
  const rand = mulberry32(seed);
  const out: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const key = i % 7 === 0 ? `clé-${i}-ünïcødé-${'k'.repeat(i % 13)}` : `key:${String(i).padStart(8, '0')}`;
    let value: Buffer | string;
    if (i === 1234) value = Buffer.alloc(300 * 1024, 0x5a); // larger than a block: a block of its own
    else if (i % 3 === 0) value = `value ${i} `.repeat(1 + (i % 20));
    else {
      value = Buffer.allocUnsafe(Math.floor(rand() * 400));
      for (let j = 0; j < value.length; j++) value[j] = rand() < 0.5 ? 0x41 + (j % 7) : Math.floor(rand() * 256);
    }
    const entry: Entry = { key: i % 11 === 0 ? Buffer.from(key) : key, value };
    if (i % 5 === 0) entry.expiresAt = 1_700_000_000_000 + i;
    out.push(entry);
  }
  return out;
}

async function encodeRaw(entries: Entry[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of Readable.from([entries]).pipe(new EntryEncoder())) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function tool(cmd: string, args: string[]): Promise<Buffer> {
  const { stdout } = await run(cmd, args, { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 });
  return stdout;
}

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'snapstream-stock-read-'));
// On every exit, also one cut short by a failure.
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const entries = makeEntries(6000, 42);
const raw = await encodeRaw(entries);

const cases: Array<{ codec: CodecName; cmd: string }> = [
  { codec: 'zstd', cmd: 'zstd' },
  { codec: 'lz4', cmd: 'lz4' },
  { codec: 'none', cmd: 'zstd' },
];

for (const { codec, cmd } of cases) {
  t.test(`${cmd} -d reads a ${codec} snapshot file to the raw entry stream`, async (t) => {
    const file = path.join(tmp, `snap-${codec}.${cmd === 'lz4' ? 'lz4' : 'zst'}`);
    const summary = await writeSnapshot(entries, file, {
      codec,
      blockSize: 64 * 1024,
      meta: { index: 1234, term: 7 },
      createdAt: 1_700_000_000_000,
    });
    t.ok(summary.blocks > 10, `several blocks (${summary.blocks})`);
    t.equal(summary.rawBytes, raw.length, 'raw byte count agrees with EntryEncoder');
    const out = await tool(cmd, ['-d', '-c', '-q', file]);
    t.equal(out.length, raw.length, 'same length');
    t.ok(out.equals(raw), 'byte for byte the EntryEncoder output');
    // The same through stdin (no file name, so no format guessing from the suffix).
    const viaStdin = await run('sh', ['-c', `${cmd} -d -c -q < "${file}"`], { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 });
    t.ok(viaStdin.stdout.equals(raw), 'also when read from stdin');
  });

  t.test(`${cmd} -d reads an empty ${codec} snapshot (header and footer only)`, async (t) => {
    const file = path.join(tmp, `empty-${codec}`);
    const summary = await writeSnapshot([], file, { codec });
    t.equal(summary.entries, 0);
    const out = await tool(cmd, ['-d', '-c', '-q', file]);
    t.equal(out.length, 0, 'nothing but skippable frames: no output');
  });
}

t.test('zstd -t and lz4 -t accept snapshot files', async (t) => {
  for (const { codec, cmd } of cases) {
    const file = path.join(tmp, `check-${codec}`);
    await writeSnapshot(entries.slice(0, 500), file, { codec, blockSize: 4096 });
    await t.resolves(tool(cmd, ['-t', '-q', file]), `${cmd} -t on ${codec}`);
  }
});
