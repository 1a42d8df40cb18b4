/**
 * ResumableFileSink with `direct`: the partial written with O_DIRECT from the sink's own staging
 * (lib/sink/direct-writer.ts). Whatever the chunk sizes and the pauses between them, the file is
 * byte for byte what was written; `written` (and every `progress` and `whenWritten`) never says
 * more than the partial holds; a destroy mid-stream leaves every byte taken in the partial and a
 * resume after it (at an offset inside a block) continues it exactly; where O_DIRECT is refused
 * (at the open, or at a write) it writes through the page cache, silently.
 */
import t, { type Test } from 'tap';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { ResumableFileSink } from '../../lib/index.js';
import { DIRECT_BLOCK, DIRECT_SLOT } from '../../lib/sink/direct-writer.js';
import { directIoWorks } from '../fixtures/direct-io.js';
import { mulberry32, seededRandomBytes, testSeed } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x5d1ec7);

function write(sink: ResumableFileSink, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => sink.write(chunk, (err) => (err ? reject(err) : resolve())));
}

function ready(sink: ResumableFileSink): Promise<void> {
  return new Promise((resolve, reject) => {
    sink.once('ready', resolve);
    sink.once('error', reject);
  });
}

function end(sink: ResumableFileSink): Promise<void> {
  return new Promise((resolve, reject) => {
    sink.once('error', reject);
    sink.end(() => resolve());
  });
}

/** A size near a block or slot boundary, or anywhere up to twice a slot. */
function chunkSize(random: () => number): number {
  const near = [1, 511, 512, DIRECT_BLOCK - 1, DIRECT_BLOCK, DIRECT_BLOCK + 1, 3 * DIRECT_BLOCK + 17, DIRECT_SLOT - 1, DIRECT_SLOT, DIRECT_SLOT + 1];
  const r = random();
  if (r < 0.4) return near[Math.floor(random() * near.length)]!;
  if (r < 0.8) return 1 + Math.floor(random() * 64 * 1024);
  return 1 + Math.floor(random() * 2 * DIRECT_SLOT);
}

/** Checks, at every `progress`, that the partial holds at least what the sink says it has written. */
function watchWritten(t: Test, sink: ResumableFileSink): { beyond: number; events: number } {
  const seen = { beyond: 0, events: 0 };
  sink.on('progress', ({ bytes }: { bytes: number }) => {
    seen.events++;
    if (sink.installed) return;
    const size = fs.statSync(sink.partialPath).size;
    if (size < bytes || size < sink.written) seen.beyond++;
  });
  t.teardown(() => sink.removeAllListeners('progress'));
  return seen;
}

t.test('bytes identical for many chunk sizes and pauses (seeded), never reported beyond the partial', async (t) => {
  const seed = testSeed(t, 0x1d0c);
  const random = mulberry32(seed);
  const dir = t.testdir();
  for (let round = 0; round < 6; round++) {
    const file = path.join(dir, `out-${round}`);
    const sink = new ResumableFileSink({ path: file, direct: true, syncEvery: 8 * 1024 * 1024 });
    await ready(sink);
    t.equal(sink.direct, directIoWorks(dir), 'written with O_DIRECT where the file system takes it');
    const seen = watchWritten(t, sink);
    const total = Math.floor(random() * 20 * 1024 * 1024) + 1;
    const data = randomBytes(total);
    for (let at = 0; at < total; ) {
      const n = Math.min(chunkSize(random), total - at);
      const chunk = Buffer.from(data.subarray(at, at + n)); // the caller's own memory, reused below
      const written = write(sink, chunk);
      at += n;
      await written;
      chunk.fill(0xee); // taken means copied: the sink no longer reads it
      // Now and then, a pause long enough for the input to count as idle.
      if (random() < 0.2) for (let i = 0; i < 3; i++) await turn();
      if (random() < 0.1) {
        await sink.whenWritten(at);
        t.ok(fs.statSync(sink.partialPath).size >= at, 'whenWritten resolves once the partial holds the bytes');
      }
    }
    await end(sink);
    t.ok(fs.readFileSync(file).equals(data), `round ${round}: ${total} bytes identical`);
    t.equal(seen.beyond, 0, 'no progress event named more than the partial held');
    t.ok(seen.events > 0);
  }
});

t.test('staged bytes reach the partial when the input goes idle', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'idle');
  const sink = new ResumableFileSink({ path: file, direct: true });
  await ready(sink);
  const data = randomBytes(3 * DIRECT_BLOCK + 100); // three whole blocks and a tail
  await write(sink, data);
  // Taken into staging: the partial holds it once the sink has seen a turn go by with nothing
  // more to write (the whole blocks first, then the tail).
  await sink.whenWritten(data.length);
  t.equal(sink.written, data.length);
  t.ok(fs.readFileSync(sink.partialPath).equals(data), 'the partial holds every byte, the tail included');
  // More after the tail: its block is written again, whole.
  const more = randomBytes(DIRECT_BLOCK);
  await write(sink, more);
  await sink.flush();
  t.ok(fs.readFileSync(sink.partialPath).equals(Buffer.concat([data, more])), 'flush writes what is staged');
  await end(sink);
  t.ok(fs.readFileSync(file).equals(Buffer.concat([data, more])));
});

t.test('destroyed mid-stream with bytes staged: the partial keeps them, and a resume inside a block continues exactly', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'resumed');
  const data = randomBytes(9 * 1024 * 1024 + 3333);
  const cut = 5 * 1024 * 1024 + 1234; // not a block boundary
  const first = new ResumableFileSink({ path: file, direct: true });
  await ready(first);
  const direct = directIoWorks(dir);
  t.equal(first.direct, direct, 'written with O_DIRECT where the file system takes it');
  await write(first, data.subarray(0, DIRECT_SLOT + 77)); // one slot goes out, 77 bytes staged
  await write(first, data.subarray(DIRECT_SLOT + 77, cut));
  if (direct) t.ok(first.written < cut, `bytes still staged when destroyed (${cut - first.written})`);
  first.destroy();
  await new Promise((resolve) => first.once('close', resolve));
  t.equal(fs.statSync(first.partialPath).size, cut, 'the partial holds every byte taken');
  t.ok(fs.readFileSync(first.partialPath).equals(data.subarray(0, cut)));

  const second = new ResumableFileSink({ path: file, direct: true, resumeAt: cut });
  await ready(second);
  t.equal(second.direct, direct);
  t.equal(second.written, cut);
  for (let at = cut; at < data.length; at += 700_001) await write(second, data.subarray(at, Math.min(data.length, at + 700_001)));
  await end(second);
  t.ok(fs.readFileSync(file).equals(data), 'the resumed file is byte-identical');
});

t.test('whenWritten of a sink destroyed first rejects; writes after a destroy are refused', async (t) => {
  const dir = t.testdir();
  const sink = new ResumableFileSink({ path: path.join(dir, 'x'), direct: true });
  await ready(sink);
  await write(sink, randomBytes(100));
  const waiting = sink.whenWritten(1000); // never written
  sink.destroy();
  await t.rejects(waiting, { code: 'SNAP_ERR_IO' });
  await new Promise((resolve) => sink.once('close', resolve));
  await t.rejects(sink.whenWritten(1000), { code: 'SNAP_ERR_IO' });
  t.equal(fs.statSync(sink.partialPath).size, 100, 'what was taken is in the partial');
});

t.test('on tmpfs: the same bytes, direct or not (Linux 6.6 and later take O_DIRECT there, earlier ones refuse it)', async (t) => {
  const dir = fs.mkdtempSync('/dev/shm/snapstream-direct-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'out');
  const sink = new ResumableFileSink({ path: file, direct: true });
  await ready(sink);
  t.type(sink.direct, 'boolean');
  const data = randomBytes(5 * 1024 * 1024 + 5);
  await write(sink, data.subarray(0, 1000));
  await write(sink, data.subarray(1000));
  await end(sink);
  t.ok(fs.readFileSync(file).equals(data));
});

t.test('O_DIRECT refused at the open (EINVAL, as tmpfs before Linux 6.6): through the page cache, silently', async (t) => {
  const refused: string[] = [];
  const open = ((file: string, flags?: string | number, mode?: number) => {
    if (typeof flags === 'number' && (flags & fs.constants.O_DIRECT) !== 0) {
      refused.push(file);
      return Promise.reject(Object.assign(new Error('invalid argument'), { code: 'EINVAL' }));
    }
    return fsp.open(file, flags, mode);
  }) as typeof fsp.open;
  const writer = await t.mockImport<typeof import('../../lib/sink/direct-writer.js')>('../../lib/sink/direct-writer.js', {
    'node:fs/promises': { ...fsp, default: { ...fsp, open }, open },
  });
  const { ResumableFileSink: Sink } = await t.mockImport<typeof import('../../lib/sink/resumable-file-sink.js')>('../../lib/sink/resumable-file-sink.js', {
    '../../lib/sink/direct-writer.js': writer,
  });
  const file = path.join(t.testdir(), 'out');
  const sink = new Sink({ path: file, direct: true });
  await ready(sink);
  t.same(refused, [sink.partialPath], 'O_DIRECT was asked for, and refused');
  t.equal(sink.direct, false, 'not direct');
  const data = randomBytes(5 * 1024 * 1024 + 5);
  await write(sink, data.subarray(0, 1000));
  t.equal(sink.written, 1000, 'written at the callback, as without direct');
  t.equal(fs.statSync(sink.partialPath).size, 1000);
  await write(sink, data.subarray(1000));
  await end(sink);
  t.ok(fs.readFileSync(file).equals(data));
});

t.test('a direct write refused at a write (EINVAL): that one and every later one through the page cache', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'refused');
  const sink = new ResumableFileSink({ path: file, direct: true });
  await ready(sink);
  // A file system that opens with O_DIRECT but wants other alignment answers EINVAL at the write.
  // (Where this one refuses O_DIRECT at the open, the sink has no direct writer: the same bytes, through the page cache.)
  const opened = directIoWorks(dir);
  t.equal(sink.direct, opened);
  const writer = (sink as unknown as { writer: { direct: { write: () => Promise<never> } } | null }).writer;
  let refusals = 0;
  if (writer)
    writer.direct.write = () => {
      refusals++;
      return Promise.reject(Object.assign(new Error('invalid argument'), { code: 'EINVAL' }));
    };
  const data = randomBytes(2 * DIRECT_SLOT + 999);
  await write(sink, data);
  await sink.flush();
  t.equal(refusals, opened ? 1 : 0, 'refused once, then not asked again');
  t.equal(sink.direct, false, 'no longer direct');
  t.ok(fs.readFileSync(sink.partialPath).equals(data));
  await end(sink);
  t.ok(fs.readFileSync(file).equals(data));
});
