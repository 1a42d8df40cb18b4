/**
 * copyInto: one bulk copy into ordinary or shared memory, at any offset (the unaligned ones are
 * those V8's own copy into shared memory does byte by byte), and nothing for no bytes.
 */
import t from 'tap';
import { copyInto } from '../../lib/format/copy-into.js';

for (const kind of ['shared', 'ordinary'] as const) {
  t.test(`into ${kind} memory`, async (t) => {
    const target = kind === 'shared' ? Buffer.from(new SharedArrayBuffer(4096)) : Buffer.alloc(4096);
    const source = Buffer.alloc(3001);
    for (let i = 0; i < source.length; i++) source[i] = (i * 31 + 7) & 0xff;
    for (const at of [0, 1, 13, 1000]) {
      target.fill(0);
      t.equal(copyInto(target, source.subarray(1, 1 + 3000 - at), at), 3000 - at, `${3000 - at} bytes at ${at}`);
      t.ok(target.subarray(at, 3000).equals(source.subarray(1, 1 + 3000 - at)), 'copied');
      t.equal(target[at - 1] ?? 0, 0, 'nothing before');
      t.equal(target[3000], 0, 'nothing after');
    }
    target.fill(9);
    t.equal(copyInto(target, Buffer.alloc(0), 4096), 0, 'no bytes at the end');
    t.equal(copyInto(target, new Uint8Array(0), 5), 0, 'no bytes inside');
    t.ok(target.every((b) => b === 9), 'target unchanged');
  });
}
