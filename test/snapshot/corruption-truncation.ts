/**
 * A snapshot file of the wrong length is never read as good: cut anywhere (inside the header,
 * a block header, a data frame or the footer, at a frame boundary, one byte short of the end)
 * readSnapshot fails with a SnapstreamError after at most the entries of the blocks wholly
 * before the cut, all equal to the originals, without hanging. Bytes after the footer are
 * SNAP_ERR_FORMAT.
 */
import t from 'tap';
import { rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isCorruptionError, readSnapshot, SnapstreamError, writeSnapshot, type CodecName, type Entry } from '../../lib/index.js';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

/** About 2.5 MiB of entries: text and bytes, some with expiry, partly compressible. */
function makeEntries(count: number, seed: number): Entry[] {
  const rand = mulberry32(seed);
  const out: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const value = Buffer.allocUnsafe(200 + Math.floor(rand() * 1400));
    for (let j = 0; j < value.length; j++) value[j] = j % 4 === 0 ? Math.floor(rand() * 256) : 0x61 + (j % 19);
    const entry: Entry =
      i % 3 === 0
        ? { key: `user:${i}:ключ`, value: value.toString('latin1') }
        : { key: Buffer.from(`k${i}`), value };
    if (i % 4 === 0) entry.expiresAt = 1_800_000_000_000 + i;
    out.push(entry);
  }
  return out;
}

interface Region {
  name: string;
  start: number;
  end: number;
}

interface FileMap {
  header: Region;
  blocks: Array<{ header: Region; data: Region; entriesTotal: number }>;
  footer: Region;
}

/** Finds every frame of a snapshot file from its skippable frame headers (docs/FORMAT.md). */
function mapFile(bytes: Buffer): FileMap {
  const headerEnd = 8 + bytes.readUInt32LE(4);
  const blocks: FileMap['blocks'] = [];
  let at = headerEnd;
  for (;;) {
    const end = at + 8 + bytes.readUInt32LE(at + 4);
    const tag = bytes.toString('latin1', at + 8, at + 12);
    if (tag === 'SEND') {
      return { header: { name: 'header', start: 0, end: headerEnd }, blocks, footer: { name: 'footer', start: at, end } };
    }
    const seq = blocks.length;
    const frameLength = bytes.readUInt32LE(at + 16);
    const entriesTotal = Number(bytes.readBigUInt64LE(at + 8 + 40));
    blocks.push({
      header: { name: `block ${seq} header`, start: at, end },
      data: { name: `block ${seq} data`, start: end, end: end + frameLength },
      entriesTotal,
    });
    at = end + frameLength;
  }
}

/** Entries that may come out of a file cut at `offset`: those of blocks wholly before it. */
function entriesBefore(map: FileMap, offset: number): number {
  let n = 0;
  for (const b of map.blocks) if (b.data.end <= offset) n = b.entriesTotal;
  return n;
}

function sameBytes(a: Buffer | string | Uint8Array, b: Buffer | string): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return Buffer.from(a).equals(b);
}

interface ReadResult {
  count: number;
  /** Index of the first entry that differs from the original, or -1. */
  wrong: number;
  error: unknown;
  hung: boolean;
}

/** Reads the whole file with readSnapshot, comparing each entry as it comes, within `ms`. */
async function readAll(file: string, originals: Entry[], ms: number): Promise<ReadResult> {
  const result: ReadResult = { count: 0, wrong: -1, error: null, hung: false };
  const stream = readSnapshot(file);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      result.hung = true;
      stream.destroy();
      resolve();
    }, ms);
  });
  const consume = (async () => {
    try {
      for await (const e of stream) {
        const o = originals[result.count];
        const ok = o !== undefined && sameBytes(o.key, e.key) && sameBytes(o.value, e.value) && (o.expiresAt ?? undefined) === e.expiresAt;
        if (!ok && result.wrong < 0) result.wrong = result.count;
        result.count++;
      }
    } catch (err) {
      result.error = err;
    }
  })();
  await Promise.race([consume, timeout]);
  clearTimeout(timer);
  return result;
}

/** What is wrong with the outcome of reading a file damaged at `offset`, or null. */
function judge(r: ReadResult, allowed: number): string | null {
  if (r.hung) return 'hung';
  if (r.wrong >= 0) return `entry ${r.wrong} differs from the original`;
  if (r.count > allowed) return `${r.count} entries came out, only ${allowed} precede the damage`;
  if (r.error === null) return `read succeeded (${r.count} entries)`;
  if (!(r.error instanceof SnapstreamError)) return `not a SnapstreamError: ${String(r.error)}`;
  if (!r.error.code.startsWith('SNAP_ERR_')) return `bad code ${r.error.code}`;
  // Damage must read as damage (checksum, format, truncation, limit, codec), not as, say, an
  // unsupported version that a newer build might read.
  if (!isCorruptionError(r.error)) return `${r.error.code} is not a corruption code: ${r.error.message}`;
  return null;
}

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'snapstream-truncate-'));
// On every exit, also one cut short by a failure.
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const entries = makeEntries(3000, 11);
const TIMEOUT = 15_000;

for (const codec of ['zstd', 'lz4', 'none'] as CodecName[]) {
  t.test(`a ${codec} snapshot cut short anywhere fails the read`, async (t) => {
    const file = path.join(tmp, `good-${codec}.snap`);
    await writeSnapshot(entries, file, { codec, blockSize: 384 * 1024, meta: { index: 5, term: 1 } });
    const bytes = await fs.readFile(file);
    const map = mapFile(bytes);
    t.ok(map.blocks.length >= 6, `${map.blocks.length} blocks in ${bytes.length} bytes`);
    t.equal(map.footer.end, bytes.length, 'the map covers the whole file');

    // 0, 1, every length through the header, around and inside every block header and data
    // frame (first bytes, middle, last bytes, frame boundaries), every length through the footer
    // and one byte short of the end; plus lengths sampled across the data frames.
    const rand = mulberry32(codec.length * 77);
    const cuts = new Set<number>([0, 1, bytes.length - 1]);
    for (let n = 0; n <= map.header.end; n++) cuts.add(n);
    for (let n = map.footer.start; n < map.footer.end; n++) cuts.add(n);
    for (const b of map.blocks) {
      for (const r of [b.header, b.data]) {
        for (const n of [r.start, r.start + 1, r.start + 5, r.start + 13, (r.start + r.end) >> 1, r.end - 1]) cuts.add(n);
      }
      for (let i = 0; i < 2; i++) cuts.add(b.data.start + Math.floor(rand() * (b.data.end - b.data.start)));
    }
    const every = map.blocks[1]!.header;
    for (let n = every.start; n <= every.end; n++) cuts.add(n);
    const sorted = [...cuts].filter((n) => n < bytes.length).sort((a, b) => a - b);
    t.ok(sorted.length >= 200, `${sorted.length} lengths`);

    const cut = path.join(tmp, `cut-${codec}.snap`);
    const failures: string[] = [];
    const codes = new Map<string, number>();
    let withEntries = 0;
    for (const length of sorted) {
      await fs.writeFile(cut, bytes.subarray(0, length));
      const r = await readAll(cut, entries, TIMEOUT);
      const problem = judge(r, entriesBefore(map, length));
      if (problem) failures.push(`cut to ${length} bytes: ${problem}`);
      if (r.count > 0) withEntries++;
      const code = (r.error as SnapstreamError | null)?.code ?? 'none';
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    t.same(failures, [], `each of ${sorted.length} cuts fails the read with a typed error, no wrong entry`);
    t.ok(withEntries > 0, `whole blocks before a cut still come out (${withEntries} cuts gave entries)`);
    t.comment(`codes: ${JSON.stringify(Object.fromEntries(codes))}`);
  });

  t.test(`bytes after the footer of a ${codec} snapshot are SNAP_ERR_FORMAT`, async (t) => {
    const file = path.join(tmp, `tail-${codec}.snap`);
    await writeSnapshot(entries.slice(0, 500), file, { codec, blockSize: 64 * 1024 });
    const bytes = await fs.readFile(file);
    const map = mapFile(bytes);
    const footer = bytes.subarray(map.footer.start);
    const tails: Array<[string, Buffer]> = [
      ['one zero byte', Buffer.from([0])],
      ['one byte 0x50', Buffer.from([0x50])],
      ['a skippable frame header', Buffer.from('502a4d1800000000', 'hex')],
      ['a second copy of the footer', footer],
      ['the whole file again', bytes],
    ];
    const longer = path.join(tmp, `longer-${codec}.snap`);
    for (const [name, tail] of tails) {
      await fs.writeFile(longer, Buffer.concat([bytes, tail]));
      const r = await readAll(longer, entries, TIMEOUT);
      t.equal(r.hung, false, `${name}: no hang`);
      t.equal(r.wrong, -1, `${name}: entries that came out are the originals`);
      t.type(r.error, SnapstreamError, `${name}: a SnapstreamError`);
      t.equal((r.error as SnapstreamError | null)?.code, 'SNAP_ERR_FORMAT', `${name}: SNAP_ERR_FORMAT`);
    }
  });
}
