/**
 * PrefixCrcs remembers the CRC32 of a file's prefixes at chunk boundaries: the nearest one at or
 * before any offset, read on from there, gives that prefix's CRC; memory stays bounded by
 * forgetting boundaries evenly past the limit.
 */
import t from 'tap';
import { crc32 } from '../../lib/format/crc32.js';
import { PrefixCrcs } from '../../lib/transfer/prefix-crcs.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x9ec5cf13);

const data = randomBytes(64 * 1024);
const prefixCrc = (n: number): number => crc32(data.subarray(0, n));

t.test('floor: the longest prefix remembered, whatever order boundaries came in', async (t) => {
  const p = new PrefixCrcs();
  t.same(p.floor(12345), { offset: 0, crc: 0 }, 'the empty prefix is always known');
  for (const at of [4096, 16384, 8192, 16384, 32768]) p.add(at, prefixCrc(at));
  t.equal(p.size, 5, 'a repeat is not stored twice');
  t.same(p.floor(4095), { offset: 0, crc: 0 });
  t.same(p.floor(8192), { offset: 8192, crc: prefixCrc(8192) });
  t.same(p.floor(20000), { offset: 16384, crc: prefixCrc(16384) });
  t.same(p.floor(data.length), { offset: 32768, crc: prefixCrc(32768) });
  // Reading on from the floor gives the exact prefix CRC.
  const { offset, crc } = p.floor(30000);
  t.equal(crc32(data.subarray(offset, 30000), crc), prefixCrc(30000));
});

t.test('past the limit, boundaries are forgotten evenly; what remains stays right', async (t) => {
  const p = new PrefixCrcs(16);
  for (let at = 1024; at <= data.length; at += 1024) p.add(at, prefixCrc(at));
  t.equal(p.size, 16, '16 boundaries kept of 65');
  let widest = 0;
  for (let end = 0; end <= data.length; end += 777) {
    const { offset, crc } = p.floor(end);
    t.ok(offset <= end);
    widest = Math.max(widest, end - offset);
    if (crc !== prefixCrc(offset)) t.fail(`wrong CRC at ${offset}`);
  }
  t.ok(widest <= data.length / 8, `at most ${widest} bytes to read on`);
});
