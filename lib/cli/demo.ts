/**
 * `snapstream demo`: the main job on an embedded data set. Generates sample entries (a quarter
 * with expiry), writes them as a zstd snapshot file, verifies every byte of it, reads it back
 * skipping expired entries, checks what came back against the source, interrupts a second write
 * of the same snapshot half way and resumes it, and prints the figures.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { DecodedEntry } from '../format/entry.js';
import { sampleEntries } from '../sample/sample-entries.js';
import { inspectSnapshot, verifySnapshot } from '../snapshot/inspect-snapshot.js';
import { readSnapshot } from '../snapshot/read-snapshot.js';
import { analyzePartial } from '../snapshot/analyze-partial.js';
import { sendSnapshot } from '../transfer/send-snapshot.js';
import { createSnapshotServer } from '../transfer/snapshot-server.js';
import { levelApplier } from '../adapters/level-adapter.js';
import { mapSource } from '../adapters/map-adapter.js';
import { DirectorySnapshotStore } from '../store/directory-snapshot-store.js';
import { writeSnapshot, type EntrySourceFactory, type WriteSnapshotOptions } from '../snapshot/write-snapshot.js';
import { intOption, parseArgs } from './args.js';
import { EXIT } from './exit-codes.js';
import { formatBytes, formatCount, formatRate, plural } from './format.js';

export async function runDemo(args: string[], ctx: { quiet?: boolean } = {}): Promise<number> {
  const parsed = parseArgs(args, { values: ['--dir', '--entries'] });
  const count = intOption(parsed, '--entries', 200_000);
  const dir = parsed.values.get('--dir') ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'snapstream-demo-')));
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, 'snapshot.zst');
  const now = Date.now();
  const out = (line: string): boolean => ctx.quiet === true || process.stdout.write(`${line}\n`);

  out('snapstream demo');
  // A restartable source: the cursor stored in each block is the count of entries before it.
  const source = (cursor: unknown) => sampleEntries({ count, now, start: (cursor as number | undefined) ?? 0 });
  const options = { codec: 'zstd' as const, level: 1, createdAt: now, meta: { demo: true, index: count, term: 1 } };
  let t = performance.now();
  const written = await writeSnapshot(source, file, options);
  const writeMs = performance.now() - t;
  const info = await inspectSnapshot(file);
  out(`  data set   ${formatCount(written.entries)} entries, ${formatBytes(written.rawBytes)} encoded`);
  out(
    `  write      ${formatBytes(written.bytes)} in ${plural(info.blocks.length, 'block')}, ratio ${info.ratio.toFixed(2)}×, ` +
      `${formatRate(written.rawBytes, writeMs)} (zstd level 1)`,
  );

  t = performance.now();
  await verifySnapshot(file);
  out(`  verify     every CRC and frame checked, ${formatRate(written.rawBytes, performance.now() - t)}`);

  t = performance.now();
  const reader = readSnapshot(file, { skipExpired: true, now, batch: true });
  let live = 0;
  let mismatches = 0;
  const expected = sampleEntries({ count, now });
  for await (const batch of reader as AsyncIterable<DecodedEntry[]>) {
    for (const entry of batch) {
      live++;
      // The source again, minus what has expired, must match entry for entry.
      let want = expected.next().value;
      while (want && want.expiresAt != null && want.expiresAt <= now) want = expected.next().value;
      if (!want || !Buffer.from(want.key as Buffer).equals(entry.key as Buffer) || !Buffer.from(want.value as Buffer).equals(entry.value as Buffer)) {
        mismatches++;
      }
    }
  }
  const readMs = performance.now() - t;
  out(
    `  read back  ${formatCount(live)} live entries, ${formatCount(reader.expired)} expired skipped, ` +
      `${formatRate(written.rawBytes, readMs)}${mismatches === 0 ? ', all equal to the source' : `, ${mismatches} MISMATCHES`}`,
  );
  await demoResume(file, source, options, written.bytes, out);
  await demoTransfer(file, dir, out);
  await demoStore(dir, now, out);
  out(`  file       ${file}`);
  out(`             (a valid .zst: try  zstd -d -c ${file} | wc -c)`);
  return mismatches === 0 ? EXIT.OK : EXIT.CORRUPT;
}

/**
 * Keeps snapshots of a changing Map in a store with a retention policy, damages the newest, and
 * restores the newest one that verifies into a LevelDB (built aside, swapped in atomically).
 */
async function demoStore(dir: string, now: number, out: (line: string) => void): Promise<void> {
  const store = await DirectorySnapshotStore.at(path.join(dir, 'store'), { retention: { maxSnapshots: 3 } });
  try {
    const cache = new Map<string, string | { value: string; expiresAt: number }>();
    for (let round = 1; round <= 5; round++) {
      for (let i = 0; i < 20_000; i++) {
        cache.set(`session:${i}`, i % 5 === 0 ? { value: `round ${round}`, expiresAt: now + (i % 10 === 0 ? -1 : 3_600_000) } : `round ${round}`);
      }
      await store.create(mapSource(cache, { index: round * 20_000, term: 1 }));
      await store.prune();
    }
    const kept = await store.list();
    out(`  store      5 snapshots taken, ${kept.length} kept by the retention policy (newest: index ${kept[0]!.index})`);
    // Damage the newest: restore must fall back to the one before it.
    const newest = store.pathOf(kept[0]!.id);
    const bytes = await fs.readFile(newest);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    await fs.writeFile(newest, bytes);
    const { ClassicLevel } = await import('classic-level');
    const open = async (location: string) => {
      const db = new ClassicLevel<Buffer | string, Buffer | string>(location, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
      await db.open();
      return db;
    };
    const location = path.join(dir, 'leveldb');
    const handle = { location, db: await open(location), open };
    const restored = await store.restore(levelApplier(handle));
    let keys = 0;
    for await (const _key of handle.db.keys()) keys++;
    await handle.db.close();
    out(
      `  restore    newest snapshot corrupt (moved aside); restored index ${restored.snapshot.index} into LevelDB: ` +
        `${formatCount(keys)} keys, ${formatCount(restored.expired)} expired entries skipped`,
    );
  } finally {
    await store.close();
  }
}

/**
 * Sends the snapshot to a receiver on loopback (with a shared secret), drops the connection a
 * quarter of the way, and lets the sender reconnect and resume from what the receiver holds.
 */
async function demoTransfer(file: string, dir: string, out: (line: string) => void): Promise<void> {
  const secret = randomBytes(32);
  const server = createSnapshotServer({ dir: path.join(dir, 'received'), secret });
  const address = (await server.listen({ host: '127.0.0.1', port: 0 })) as AddressInfo;
  const size = (await fs.stat(file)).size;
  let current: net.Socket | null = null;
  let dropped = -1;
  const t = performance.now();
  try {
    const result = await sendSnapshot(file, () => (current = net.connect(address.port, '127.0.0.1')), {
      id: 'demo-snapshot',
      secret,
      onProgress: (p) => {
        if (dropped < 0 && p.bytes >= size / 4) {
          dropped = p.bytes;
          current?.destroy(); // the network fails half way
        }
      },
    });
    const same = (await fs.readFile(path.join(dir, 'received', 'demo-snapshot'))).equals(await fs.readFile(file));
    out(
      `  transfer   ${formatBytes(size)} over TCP with HMAC auth; connection dropped at ${formatBytes(dropped)}, ` +
        `the receiver held ${result.resumes.map(formatBytes).join(', ')} and sending resumed there`,
    );
    out(
      `             ${result.connections} connections, ${formatBytes(result.resentBytes)} sent twice, ` +
        `${formatRate(size, performance.now() - t)}; ${same ? 'received file identical' : 'received file DIFFERS'}`,
    );
    if (!same) throw new Error('received snapshot differs');
  } finally {
    await server.close();
  }
}

/** Interrupts a second write of the same snapshot half way, then resumes it from the partial. */
async function demoResume(
  reference: string,
  source: EntrySourceFactory,
  options: WriteSnapshotOptions,
  total: number,
  out: (line: string) => void,
): Promise<void> {
  const file = reference.replace(/\.zst$/, '.resumed.zst');
  const abort = new AbortController();
  const interrupted = await writeSnapshot(source, file, {
    ...options,
    signal: abort.signal,
    onProgress: (p) => {
      if (p.bytes >= total / 2) abort.abort();
    },
  }).then(
    () => false,
    (err: unknown) => (err as Error).name === 'AbortError',
  );
  if (!interrupted) throw new Error('the demo could not interrupt its snapshot');
  const partial = await analyzePartial(`${file}.partial`).catch(() => null);
  out(
    partial
      ? `  interrupt  stopped at ${formatBytes(partial.fileSize)}; the partial holds ${plural(partial.blocks, 'whole block')}`
      : '  interrupt  stopped before anything was written; no partial to resume from',
  );
  const t = performance.now();
  const resumed = await writeSnapshot(source, file, options);
  // A small demo may be stopped before its first block was whole: then nothing is reused.
  const kept = resumed.resumed ?? { bytes: 0, blocks: 0, entries: 0 };
  const same = (await fs.readFile(file)).equals(await fs.readFile(reference));
  out(
    `  resume     reused ${formatBytes(kept.bytes)} (${plural(kept.blocks, 'block')}, ${plural(kept.entries, 'entry', 'entries')}), ` +
      `read only the last ${formatCount(resumed.entries - kept.entries)} entries again, ${((performance.now() - t) / 1000).toFixed(2)} s; ` +
      (same ? 'identical to the uninterrupted file' : 'DIFFERS from the uninterrupted file'),
  );
  if (!same) throw new Error('resumed snapshot differs');
  await fs.rm(file);
}
