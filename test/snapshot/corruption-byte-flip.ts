/**
 * Corruption is never silent: one changed byte anywhere in a snapshot file (the header, every
 * block header, data frames, the footer) makes readSnapshot fail with a SnapstreamError. It
 * never hands out an entry that differs from the original, never one from the damaged block or
 * after it, never hangs and never crashes the process; and the error says "damaged"
 * (isCorruptionError), not "unsupported".
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

/** Entries that may come out of a file damaged at `offset`: those of blocks wholly before it. */
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

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'snapstream-flip-'));
// On every exit, also one cut short by a failure.
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const entries = makeEntries(3000, 7);
const TIMEOUT = 15_000;

for (const codec of ['zstd', 'lz4', 'none'] as CodecName[]) {
  t.test(`every single-byte change to a ${codec} snapshot is caught`, async (t) => {
    const file = path.join(tmp, `good-${codec}.snap`);
    await writeSnapshot(entries, file, { codec, blockSize: 384 * 1024, meta: { index: 99, term: 3 } });
    const bytes = await fs.readFile(file);
    const map = mapFile(bytes);
    t.ok(map.blocks.length >= 6, `${map.blocks.length} blocks in ${bytes.length} bytes`);
    t.equal(map.footer.end, bytes.length, 'the map covers the whole file');

    const clean = await readAll(file, entries, TIMEOUT);
    t.equal(clean.error, null, 'the undamaged file reads without error');
    t.equal(clean.count, entries.length, 'all entries');
    t.equal(clean.wrong, -1, 'all equal to the originals');

    // Every byte of the header, of one block header (a middle one) and of the footer; the
    // first bytes of every block header and data frame (magic, sizes, frame descriptor) and
    // their last bytes (checksums); and bytes sampled across every data frame.
    const rand = mulberry32(codec.length * 1000 + 1);
    const offsets = new Set<number>();
    const every = (r: Region): void => {
      for (let o = r.start; o < r.end; o++) offsets.add(o);
    };
    every(map.header);
    every(map.blocks[Math.floor(map.blocks.length / 2)]!.header);
    every(map.footer);
    for (const b of map.blocks) {
      for (const r of [b.header, b.data]) {
        for (let i = 0; i < 5; i++) offsets.add(r.start + i);
        for (let i = 1; i <= 2; i++) offsets.add(r.end - i);
      }
      for (let i = 0; i < 4; i++) offsets.add(b.data.start + Math.floor(rand() * (b.data.end - b.data.start)));
    }
    const sorted = [...offsets].sort((a, b) => a - b);
    t.ok(sorted.length >= 300, `${sorted.length} offsets`);

    const damaged = path.join(tmp, `flip-${codec}.snap`);
    const failures: string[] = [];
    const codes = new Map<string, number>();
    const hits = new Map<string, number>();
    const regions = [map.header, ...map.blocks.flatMap((b) => [b.header, b.data]), map.footer];
    for (const offset of sorted) {
      const copy = Buffer.from(bytes);
      const xor = 1 + Math.floor(rand() * 255);
      copy[offset]! ^= xor;
      await fs.writeFile(damaged, copy);
      const r = await readAll(damaged, entries, TIMEOUT);
      const region = regions.find((g) => offset >= g.start && offset < g.end)!;
      hits.set(region.name, (hits.get(region.name) ?? 0) + 1);
      const problem = judge(r, entriesBefore(map, offset));
      if (problem) failures.push(`byte ${offset} (${region.name}) ^ 0x${xor.toString(16)}: ${problem}`);
      const code = (r.error as SnapstreamError | null)?.code ?? 'none';
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    t.same(failures, [], `each of ${sorted.length} flips fails the read with a typed error, no wrong entry`);
    t.equal(hits.size, regions.length, `every region was hit (${regions.length})`);
    t.comment(`codes: ${JSON.stringify(Object.fromEntries(codes))}`);
  });
}
