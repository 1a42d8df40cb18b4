/**
 * A link planted at a path snapstream creates or truncates is never written through: the
 * partial of writeSnapshot, of `snapstream pack`, of a ChunkedReceiver and of a JSON Lines
 * restore, the store's temporary list files and its `corrupt/` directory. The link's target (the
 * "victim") keeps its bytes, and the finished file is a regular file, not the link.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { mapSource, readSnapshot, sampleEntries, DirectorySnapshotStore, writeSnapshot, type DecodedEntry } from '../../lib/index.js';
import { jsonlFileApplier } from '../../lib/cli/jsonl-applier.js';
import { ChunkedReceiver } from '../../lib/sink/chunked-receiver.js';
import { ResumableFileSink } from '../../lib/sink/resumable-file-sink.js';
import { Chunker } from '../../lib/streams/chunker.js';
import { distProblem, root } from '../fixtures/built-dist.js';
import { textWithNoise } from '../fixtures/random.js';

const VICTIM_TEXT = 'the victim: nothing of snapstream may land here\n';

function victim(dir: string): string {
  const file = path.join(dir, 'victim.txt');
  fs.writeFileSync(file, VICTIM_TEXT);
  return file;
}

async function count(file: string): Promise<number> {
  let n = 0;
  for await (const batch of readSnapshot(file, { batch: true }) as AsyncIterable<DecodedEntry[]>) n += batch.length;
  return n;
}

t.test('writeSnapshot over a symbolic link at <name>.partial', async (t) => {
  const dir = t.testdir();
  const target = victim(dir);
  const file = path.join(dir, 'new.snap');
  fs.symlinkSync(target, `${file}.partial`);
  await writeSnapshot(sampleEntries({ count: 2000 }), file);
  t.equal(fs.readFileSync(target, 'utf8'), VICTIM_TEXT, 'the victim is unchanged');
  t.ok(fs.lstatSync(file).isFile(), 'new.snap is a regular file, not a link');
  t.equal(await count(file), 2000, 'and a whole snapshot');
  t.notOk(fs.existsSync(`${file}.partial`));
});

t.test('a resumable writeSnapshot over a link, and over a dangling link', async (t) => {
  const dir = t.testdir();
  const target = victim(dir);
  const file = path.join(dir, 'new.snap');
  fs.symlinkSync(target, `${file}.partial`);
  const summary = await writeSnapshot(() => sampleEntries({ count: 500 }), file);
  t.match(summary.discarded, /symbolic link/, 'the link is not taken for a partial to resume');
  t.equal(fs.readFileSync(target, 'utf8'), VICTIM_TEXT);
  t.ok(fs.lstatSync(file).isFile());

  const nowhere = path.join(dir, 'not-there.txt');
  const other = path.join(dir, 'other.snap');
  fs.symlinkSync(nowhere, `${other}.partial`);
  await writeSnapshot(sampleEntries({ count: 10 }), other);
  t.notOk(fs.existsSync(nowhere), 'a dangling link does not make its target appear');
  t.ok(fs.lstatSync(other).isFile());
});

t.test('a hard link at <name>.partial is replaced, not truncated', async (t) => {
  const dir = t.testdir();
  const target = victim(dir);
  const file = path.join(dir, 'new.snap');
  fs.linkSync(target, `${file}.partial`);
  await writeSnapshot(sampleEntries({ count: 100 }), file);
  t.equal(fs.readFileSync(target, 'utf8'), VICTIM_TEXT, 'the other name of the file is unchanged');
  t.equal(await count(file), 100);
});

t.test('ResumableFileSink resuming over a link refuses with SNAP_ERR_IO', async (t) => {
  const dir = t.testdir();
  const target = victim(dir);
  const file = path.join(dir, 'out.bin');
  fs.symlinkSync(target, `${file}.partial`);
  await t.rejects(pipeline(Readable.from([Buffer.from('more')]), new ResumableFileSink({ path: file, resumeAt: 4 })), {
    code: 'SNAP_ERR_IO',
    message: /symbolic link/,
  });
  t.equal(fs.readFileSync(target, 'utf8'), VICTIM_TEXT);
  t.ok(fs.lstatSync(`${file}.partial`).isSymbolicLink(), 'the link itself is left alone');
  t.notOk(fs.existsSync(file));
});

t.test('a directory at <name>.partial is a typed error', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'out.snap');
  fs.mkdirSync(`${file}.partial`);
  await t.rejects(writeSnapshot(sampleEntries({ count: 10 }), file), { code: 'SNAP_ERR_IO', message: /directory/ });
});

t.test('snapstream pack over a link at <name>.partial', async (t) => {
  t.equal(distProblem(), null, 'dist is built from the current sources');
  const dir = t.testdir();
  const target = victim(dir);
  const file = path.join(dir, 'new.snap');
  fs.symlinkSync(target, `${file}.partial`);
  const lines = Array.from({ length: 300 }, (_, i) => JSON.stringify({ key: `k${i}`, value: `v${i}` })).join('\n');
  const r = spawnSync(process.execPath, [path.join(root, 'dist', 'cli', 'main.js'), 'pack', file, '--quiet'], { input: lines, encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 0, r.stderr);
  t.equal(fs.readFileSync(target, 'utf8'), VICTIM_TEXT, 'the victim is unchanged');
  t.ok(fs.lstatSync(file).isFile(), 'new.snap is a regular file');
  t.equal(await count(file), 300);
});

t.test('ChunkedReceiver over a link at its partial', async (t) => {
  const dir = t.testdir();
  const target = victim(dir);
  const file = path.join(dir, 'received.bin');
  fs.symlinkSync(target, `${file}.partial`);
  const data = textWithNoise(9 * 1024 * 1024 + 5, 12, 3);
  const receiver = new ChunkedReceiver({ path: file });
  const ready = new Promise<{ offset: number }>((resolve) => receiver.once('ready', resolve));
  const run = pipeline(Readable.from([data]), new Chunker({ chunkSize: 4 * 1024 * 1024, objects: true }), receiver);
  t.same(await ready, { offset: 0 }, 'the link is not taken for a partial to resume from');
  await run;
  t.equal(fs.readFileSync(target, 'utf8'), VICTIM_TEXT);
  t.ok(fs.lstatSync(file).isFile());
  t.ok(fs.readFileSync(file).equals(data));
});

t.test('a JSON Lines restore over a link at its partial', async (t) => {
  const dir = t.testdir();
  const target = victim(dir);
  const out = path.join(dir, 'out.jsonl');
  fs.symlinkSync(target, `${out}.partial`);
  const applier = jsonlFileApplier(out);
  await applier.begin({});
  await applier.write([{ key: 'a', value: 'b' }]);
  await applier.commit();
  t.equal(fs.readFileSync(target, 'utf8'), VICTIM_TEXT);
  t.equal(fs.readFileSync(out, 'utf8'), '{"key":"a","value":"b"}\n');
  t.ok(fs.lstatSync(out).isFile());
});

t.test('a JSON Lines restore into a missing directory is a typed error', async (t) => {
  const applier = jsonlFileApplier(path.join(t.testdir(), 'no', 'such', 'out.jsonl'));
  await t.rejects(applier.begin({}), { code: 'SNAP_ERR_IO', message: /ENOENT|no such file/ });
  await applier.abort();
});

t.test("the store's temporary list files and corrupt/ are not followed", async (t) => {
  const dir = t.testdir();
  const elsewhere = path.join(dir, 'elsewhere');
  fs.mkdirSync(elsewhere);
  const target = victim(elsewhere);
  const store = await DirectorySnapshotStore.at(path.join(dir, 'store'));
  t.teardown(() => store.close());
  // Links at every name the next list updates of this process could take.
  const names = fs.readdirSync(store.dir);
  t.notOk(names.some((n) => n.endsWith('.tmp')));
  for (let i = 0; i < 400; i++) fs.symlinkSync(target, path.join(store.dir, `.store.json.${process.pid}.${i}.tmp`));
  const first = await store.create(mapSource(new Map([['a', '1']])), { index: 1 });
  const second = await store.create(mapSource(new Map([['b', '2']])), { index: 2 });
  t.equal(fs.readFileSync(target, 'utf8'), VICTIM_TEXT, 'no list landed in the victim');
  t.ok(fs.lstatSync(path.join(store.dir, 'store.json')).isFile(), 'store.json is a regular file');
  t.same(JSON.parse(fs.readFileSync(path.join(store.dir, 'store.json'), 'utf8')).snapshots.map((s: { id: string }) => s.id), [second.id, first.id]);

  // corrupt/ a link to a directory outside the store: a damaged snapshot is not carried there.
  fs.symlinkSync(elsewhere, path.join(store.dir, 'corrupt'));
  const bytes = fs.readFileSync(store.pathOf(second.id));
  bytes[bytes.length - 30]! ^= 0xff;
  fs.writeFileSync(store.pathOf(second.id), bytes);
  const events: { path: string; movedAside: boolean }[] = [];
  store.on('corrupt', (e: { path: string; movedAside: boolean }) => events.push(e));
  const result = await store.verifyAll();
  t.same(result.corrupt.map((c) => c.id), [second.id]);
  t.same(fs.readdirSync(elsewhere), ['victim.txt'], 'nothing moved out of the store');
  t.equal(events.length, 1);
  t.equal(path.dirname(events[0]!.path), store.dir, 'moved aside in place instead');
  t.ok(events[0]!.movedAside);
});
