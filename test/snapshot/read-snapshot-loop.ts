/**
 * The README's loop, `for await (const e of readSnapshot(file))`: entries one at a time, pulled
 * from the stream an array at a time (a `read()` per entry cost more than decoding it). Every
 * entry in order, entries already emitted before the loop began included; leaving the loop
 * early destroys the pipeline, closes the file and leaves no worker job running; damage ends
 * the loop with the typed error (entries before it in order); a slow loop holds
 * a bounded number of entries ahead of it.
 */
import t, { type Test } from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readSnapshot, writeSnapshot, type DecodedEntry, type Entry } from '../../lib/index.js';
import { sharedPool } from '../../lib/codec/worker-pool.js';
import { MAX_BATCH } from '../../lib/streams/entry-decoder.js';

const COUNT = 60_000;

function* entries(): Generator<Entry> {
  for (let i = 0; i < COUNT; i++) {
    // Text that compresses, so the blocks go through the worker threads.
    yield { key: `key-${i}`, value: `value ${i} `.repeat(1 + (i % 7)), ...(i % 5 === 0 ? { expiresAt: 4_000_000_000_000 + i } : {}) };
  }
}

async function snapshot(t: Test, codec: 'zstd' | 'lz4' = 'zstd'): Promise<string> {
  const file = path.join(t.testdir(), `loop-${codec}.snap`);
  await writeSnapshot(entries(), file, { codec, blockSize: 64 * 1024 });
  return file;
}

/** The file descriptors of this process open on `file`. */
function fdsOn(file: string): number {
  let n = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) === file) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

/** Waits (at most 10 s) for `ok()`; returns its last answer. */
async function eventually(ok: () => boolean): Promise<boolean> {
  for (let i = 0; i < 1000 && !ok(); i++) await sleep(10);
  return ok();
}

const busy = (): number => (sharedPool() as unknown as { busy: number }).busy;

for (const codec of ['zstd', 'lz4'] as const) {
  t.test(`${codec}: every entry, in order, as the stream emits them`, async (t) => {
    const file = await snapshot(t, codec);
    const viaEvents: DecodedEntry[] = [];
    const s = readSnapshot(file);
    s.on('data', (e: DecodedEntry) => viaEvents.push(e));
    await new Promise((resolve, reject) => s.on('end', resolve).on('error', reject));
    let i = 0;
    let same = 0;
    for await (const e of readSnapshot(file)) {
      const want = viaEvents[i++]!;
      if (String(e.key) === String(want.key) && String(e.value) === String(want.value) && e.expiresAt === want.expiresAt) same++;
    }
    t.equal(i, COUNT, 'every entry');
    t.equal(same, COUNT, 'the same entries in the same order as the data events');
  });
}

t.test('the loop takes arrays off the stream, not an entry per read()', async (t) => {
  const file = await snapshot(t);
  const stream = readSnapshot(file);
  const read = stream.read.bind(stream);
  let reads = 0;
  stream.read = (n?: number) => {
    reads++;
    return read(n);
  };
  let n = 0;
  for await (const e of stream) if (e.key) n++;
  t.equal(n, COUNT);
  t.ok(reads < COUNT / 100, `${reads} read() calls for ${COUNT} entries`);
});

t.test('entries emitted before the loop began come first, then the rest in order', async (t) => {
  const file = await snapshot(t);
  const stream = readSnapshot(file);
  // Wait until the stream holds entries on its readable side, and take a few by hand.
  await new Promise((resolve) => stream.once('readable', resolve));
  const first: DecodedEntry[] = [];
  for (let i = 0; i < 10; i++) first.push(stream.read() as DecodedEntry);
  t.ok(stream.readableLength > 0, `${stream.readableLength} entries wait on the readable side`);
  const keys = first.map((e) => String(e.key));
  for await (const e of stream) keys.push(String(e.key));
  t.equal(keys.length, COUNT);
  t.ok(keys.every((k, i) => k === `key-${i}`), 'in order');
});

t.test('leaving the loop early destroys the pipeline, closes the file and ends the worker jobs', async (t) => {
  const file = await snapshot(t);
  const stream = readSnapshot(file);
  const closed = new Promise((resolve) => stream.on('close', resolve));
  let n = 0;
  for await (const e of stream) {
    if (++n === 1000) break;
    void e;
  }
  t.equal(n, 1000);
  await closed;
  t.ok(stream.destroyed, 'the entry stream is destroyed');
  t.ok(await eventually(() => fdsOn(file) === 0), 'the file is closed');
  t.ok(await eventually(() => busy() === 0), 'no worker job left running');
});

t.test('damage: the typed error ends the loop', async (t) => {
  const file = await snapshot(t);
  const bytes = fs.readFileSync(file);
  // Flip a byte in the middle of the file: inside a data frame or a block header.
  const middle = bytes.length >> 1;
  bytes[middle] = bytes[middle]! ^ 0x40;
  fs.writeFileSync(file, bytes);
  let n = 0;
  let inOrder = true;
  const err = await (async () => {
    for await (const e of readSnapshot(file)) if (e.key !== `key-${n++}`) inOrder = false;
  })().then(
    () => null,
    (e: unknown) => e,
  );
  t.match(err, { code: /^SNAP_ERR_(CHECKSUM|FORMAT)$/ }, 'a typed error');
  t.ok(inOrder && n < COUNT, `${n} entries, in order, before the error`);
  t.ok(await eventually(() => fdsOn(file) === 0), 'the file is closed');
});

t.test('a slow loop: entries decoded ahead of it stay bounded', async (t) => {
  const file = await snapshot(t);
  const stream = readSnapshot(file);
  let n = 0;
  let worst = 0;
  for await (const e of stream) {
    void e;
    n++;
    worst = Math.max(worst, stream.entries - n);
    if (n % 5000 === 0) for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  }
  t.equal(n, COUNT);
  // One array held, one being filled, and the one the loop is in.
  const bound = 3 * MAX_BATCH;
  t.ok(worst <= bound, `at most ${worst} entries decoded ahead of the loop (bound ${bound})`);
});

t.test('batch: true: the loop gets the arrays themselves', async (t) => {
  const file = await snapshot(t);
  let arrays = 0;
  let notArrays = 0;
  let n = 0;
  for await (const batch of readSnapshot(file, { batch: true })) {
    if (!Array.isArray(batch)) notArrays++;
    arrays++;
    n += (batch as unknown as DecodedEntry[]).length;
  }
  t.equal(notArrays, 0, 'every item an array');
  t.equal(n, COUNT);
  t.ok(arrays < COUNT / 10, `${arrays} arrays`);
});
