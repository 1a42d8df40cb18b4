/**
 * Where readSnapshot's blocks are decompressed. Nothing waits for the worker threads to start:
 * while none is ready (the first read of a process; starting one takes tens of milliseconds),
 * blocks are decoded on the main thread, with every check kept — here the worker threads are
 * held back until every entry of a snapshot has come out, and a damaged frame still fails as
 * damage at its offset, with none of its entries or later ones handed out. The read ends once a
 * worker is ready (where none can start it fails: test/codec/worker-failure-not-corruption.ts);
 * later blocks go to it. Small entries (the main thread's decoding of entries is the bottleneck) use one worker
 * thread; larger ones use every thread of the pool. Checked in a child process, whose pool is
 * fresh, running the sources with this process's loader.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeSnapshot, type Entry } from '../../lib/index.js';
import { mulberry32, testSeed } from '../fixtures/random.js';
import { entriesBefore, mapFile } from './fixtures/corruption-harness.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const lib = pathToFileURL(path.resolve(here, '../../lib/index.ts')).href;
const poolModule = pathToFileURL(path.resolve(here, '../../lib/codec/worker-pool.ts')).href;
const hold = pathToFileURL(path.join(here, 'fixtures', 'hold-workers.mjs')).href;
const loaderArgs = process.execArgv.filter((a) => a.includes('@tapjs/typescript') || a === '--enable-source-maps');
const seed = testSeed(t, 0x1f2e3d4c);

/** `count` entries of about `size` bytes each (keys text, values bytes), seeded. */
function entries(count: number, size: number, salt: number): Entry[] {
  const rand = mulberry32(seed + salt);
  return Array.from({ length: count }, (_, i) => {
    const value = Buffer.alloc(size - 16 + Math.floor(rand() * 16), `${i}:`);
    for (let j = 0; j < value.length; j += 7) value[j] = Math.floor(rand() * 256);
    return { key: `key-${i}`, value };
  });
}

const digest = (list: Entry[]): string => {
  const h = createHash('sha256');
  for (const e of list) h.update(e.key).update(e.value);
  return h.digest('hex');
};

// The child: reads with its worker threads held back, then with them, and says what it saw.
const script = `
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { isCorruptionError, readSnapshot } from '${lib}';
import { sharedPool } from '${poolModule}';
const [small, damaged, large, release, count] = process.argv.slice(-5);
const pool = sharedPool();
const threads = () => pool.slots.length;
const out = {};
async function read(file, last = -1) {
  const h = createHash('sha256');
  let entries = 0;
  let error = null;
  try {
    for await (const e of readSnapshot(file)) {
      h.update(e.key).update(e.value);
      if (++entries === last) {
        // Every entry is here, the worker still held back: let it go, for the read to end.
        out.startingAtLast = pool.starting(1);
        out.threadsAtLast = threads();
        fs.writeFileSync(release, '');
      }
    }
  } catch (err) {
    error = { code: err.code, offset: err.offset, corruption: isCorruptionError(err) };
  }
  return { entries, digest: h.digest('hex'), error };
}
out.damaged = await read(damaged);
out.startingAfterDamage = pool.starting(1);
out.held = await read(small, Number(count));
const jobs = pool.nextId;
out.released = await read(small);
out.releasedJobs = pool.nextId - jobs;
out.releasedThreads = threads();
out.large = await read(large);
out.largeThreads = threads();
out.poolSize = pool.size;
process.stdout.write(JSON.stringify(out));
`;

t.test('the first blocks are decoded on this thread while the workers start; small entries use one worker', async (t) => {
  const dir = t.testdir();
  const small = entries(30_000, 40, 1);
  const large = entries(600, 2048, 2);
  const files = { small: path.join(dir, 'small.snap'), damaged: path.join(dir, 'damaged.snap'), large: path.join(dir, 'large.snap') };
  await writeSnapshot(small, files.small, { codec: 'zstd', blockSize: 64 * 1024 });
  await writeSnapshot(large, files.large, { codec: 'zstd', blockSize: 64 * 1024 });
  const bytes = fs.readFileSync(files.small);
  const map = mapFile(bytes);
  t.ok(map.blocks.length >= 10, `${map.blocks.length} blocks`);
  const frame = map.blocks[3]!.data;
  const at = frame.start + Math.floor((frame.end - frame.start) / 2);
  bytes[at] ^= 0x20;
  fs.writeFileSync(files.damaged, bytes);

  const scriptFile = path.join(dir, 'child.mjs');
  fs.writeFileSync(scriptFile, script);
  const release = path.join(dir, 'release');
  const { stdout } = await run(
    process.execPath,
    [...loaderArgs, `--import=${hold}`, scriptFile, files.small, files.damaged, files.large, release, String(small.length)],
    { env: { ...process.env, SNAP_TEST_HOLD: release }, timeout: 120_000, maxBuffer: 1 << 20 },
  );
  const out = JSON.parse(stdout) as Record<string, any>;

  const want = { entries: small.length, digest: digest(small), error: null };
  t.same(out.damaged.error, { code: 'SNAP_ERR_CHECKSUM', offset: frame.start, corruption: true }, 'damage decoded here is damage, at its frame');
  t.ok(out.damaged.entries <= entriesBefore(map, at), 'no entry of the damaged block or after it');
  t.equal(out.damaged.digest, digest(small.slice(0, out.damaged.entries)), 'those before it, intact and in order');
  t.equal(out.startingAfterDamage, true, 'the worker still held back');
  t.equal(out.startingAtLast, true, 'every entry came with no worker thread ready');
  t.equal(out.threadsAtLast, 1, 'one worker thread started for small entries');
  t.same(out.held, want, 'each intact and in order; the read ends once the worker is ready');

  t.same(out.released, want, 'the same entries once the worker is ready');
  t.ok(out.releasedJobs >= map.blocks.length, `its blocks went to the worker (${out.releasedJobs} jobs)`);
  t.equal(out.releasedThreads, 1, 'still one worker thread for small entries');

  t.same(out.large, { entries: large.length, digest: digest(large), error: null });
  t.equal(out.largeThreads, Math.min(2, out.poolSize, os.availableParallelism?.() ?? os.cpus().length), 'larger entries use every worker thread');
});
