/**
 * ResumableFileSink gives the kernel at most 512 KiB per write system call, in order, whatever
 * it is handed (an 8 MiB chunk, a writev of several): the page cache is then filled with small
 * folios, which cost the kernel a fraction of what 2–4 MiB ones did on the benchmark machine
 * (docs/BENCHMARKS.md, "Delta transfer", session 8). The bytes land as written.
 */
import t from 'tap';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ResumableFileSink } from '../../lib/sink/resumable-file-sink.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x5eed0512);
const MiB = 1024 * 1024;

t.test('no write system call carries more than 512 KiB', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'out.bin');
  // Every FileHandle shares one prototype: record what its writev is asked to write.
  const probe = await fsp.open(path.join(dir, 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as { writev: (buffers: Buffer[], position?: number) => Promise<{ bytesWritten: number }> };
  await probe.close();
  const writev = proto.writev;
  const sizes: number[] = [];
  proto.writev = function (this: unknown, buffers: Buffer[], position?: number) {
    sizes.push(buffers.reduce((n, b) => n + b.length, 0));
    return writev.call(this, buffers, position);
  };
  t.teardown(() => void (proto.writev = writev));

  const data = randomBytes(8 * MiB + 12_345);
  const sink = new ResumableFileSink({ path: file });
  // One 8 MiB chunk, then several corked together (one writev of all of them).
  sink.write(data.subarray(0, 8 * MiB));
  sink.cork();
  for (let at = 8 * MiB; at < data.length; at += 1000) sink.write(data.subarray(at, Math.min(at + 1000, data.length)));
  process.nextTick(() => sink.uncork());
  await new Promise<void>((resolve, reject) => sink.end((err?: Error | null) => (err ? reject(err) : resolve())));
  t.ok(fs.readFileSync(file).equals(data), 'the file holds the bytes in order');
  t.ok(sizes.length >= 17, `${sizes.length} write calls`);
  t.ok(Math.max(...sizes) <= 512 * 1024, `the largest carried ${Math.max(...sizes)} bytes`);
  t.equal(sizes.reduce((a, b) => a + b, 0), data.length, 'each byte asked for once');
});
