/**
 * `signal` aborts the snapshot recipes cleanly: writeSnapshot rejects with Node's AbortError
 * (ABORT_ERR) and leaves no file under the final name, only the `.partial` (kept for resume);
 * readSnapshot's entry stream fails with the AbortError and stops emitting entries.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { partialPathFor, readSnapshot, SnapstreamError, writeSnapshot, type DecodedEntry, type Entry } from '../../lib/index.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x63d5e2a8);

const noise = randomBytes(256 * 1024);

/** Endless entries of 1 KiB noise, so only an abort can end the write. */
async function* endless(): AsyncGenerator<Entry> {
  for (let i = 0; ; i++) {
    if (i % 1000 === 0) await sleep(1);
    const at = (i * 613) % (noise.length - 1024);
    yield { key: `key-${i}`, value: noise.subarray(at, at + 1024) };
  }
}

for (const codec of ['zstd', 'lz4', 'none'] as const) {
  t.test(`writeSnapshot (${codec}) aborted mid-way: AbortError, no final file, the partial stays`, async (t) => {
    const dir = t.testdir();
    const file = path.join(dir, 'aborted.snap');
    const ac = new AbortController();
    let progressed = 0;
    const err = await writeSnapshot(endless(), file, {
      codec,
      blockSize: 64 * 1024,
      signal: ac.signal,
      onProgress: () => {
        if (++progressed === 5) ac.abort();
      },
    }).then(
      () => null,
      (e: unknown) => e,
    );
    t.match(err, { name: 'AbortError', code: 'ABORT_ERR' }, "Node's AbortError");
    t.notOk(err instanceof SnapstreamError, 'not wrapped');
    t.ok(progressed >= 5, 'blocks were written before the abort');
    t.notOk(fs.existsSync(file), 'no file under the final name');
    const partial = partialPathFor(file);
    t.ok(fs.existsSync(partial), 'the .partial remains');
    // (writeSnapshot may settle while the sink's last write is still landing: wait until the
    // partial is still, then check it stays so.)
    let size = fs.statSync(partial).size;
    for (let i = 0; i < 50; i++) {
      await sleep(20);
      const now = fs.statSync(partial).size;
      if (now === size) break;
      size = now;
    }
    t.ok(size > 0, `the partial holds what was written (${size} bytes)`);
    await sleep(150);
    t.equal(fs.statSync(partial).size, size, 'nothing more is written after the abort');
    t.notOk(fs.existsSync(file), 'and still no final file');
    // The partial is not a readable snapshot: reading it fails with a typed error.
    const readErr = await (async () => {
      for await (const _ of readSnapshot(partial)) void _;
    })().then(
      () => null,
      (e: unknown) => e,
    );
    t.match(readErr, { code: 'SNAP_ERR_TRUNCATED' }, 'the partial reads as truncated');
  });
}

t.test('writeSnapshot with an already aborted signal creates no final file', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'never.snap');
  await t.rejects(writeSnapshot([{ key: 'a', value: 'b' }], file, { signal: AbortSignal.abort() }), { code: 'ABORT_ERR' });
  t.notOk(fs.existsSync(file));
});

t.test('readSnapshot aborted mid-way: the stream fails with AbortError and stops', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'read.snap');
  function* many(): Generator<Entry> {
    for (let i = 0; i < 30_000; i++) yield { key: `key-${i}`, value: noise.subarray(i % 1000, (i % 1000) + 500) };
  }
  await writeSnapshot(many(), file, { codec: 'lz4', blockSize: 64 * 1024 });
  const ac = new AbortController();
  const stream = readSnapshot(file, { signal: ac.signal });
  let got = 0;
  const err = await (async () => {
    for await (const e of stream) {
      got++;
      if (got === 1000) ac.abort();
      void (e as DecodedEntry);
    }
  })().then(
    () => null,
    (e: unknown) => e,
  );
  t.match(err, { name: 'AbortError', code: 'ABORT_ERR' });
  t.ok(got >= 1000 && got < 30_000, `stopped after ${got} entries`);
  t.ok(stream.destroyed, 'the entry stream is destroyed');
});

t.test('readSnapshot with an already aborted signal fails at once', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'r2.snap');
  await writeSnapshot([{ key: 'a', value: 'b' }], file);
  const err = await (async () => {
    for await (const _ of readSnapshot(file, { signal: AbortSignal.abort() })) void _;
  })().then(
    () => null,
    (e: unknown) => e,
  );
  t.match(err, { code: 'ABORT_ERR' });
});
