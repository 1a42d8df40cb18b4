/**
 * readSnapshot hashes each byte of the file once. In its pipeline the SnapshotParser's running
 * file CRC (checked at every block header and at the footer) takes each data frame's CRC from
 * the frame's block header, which the Decompressor checks against the frame's bytes as a worker
 * decodes it, instead of hashing the frame a second time on the main thread. A parser anyone
 * else makes still hashes every byte. (Damage anywhere is still found: the corruption tests.)
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { writeSnapshot, type Entry } from '../../lib/index.js';
import * as realCrc from '../../lib/format/crc32.js';
import { Leases, withLeases } from '../../lib/format/leases.js';

function* entries(): Generator<Entry> {
  for (let i = 0; i < 20_000; i++) yield { key: `key-${i}`, value: `value ${i} `.repeat(1 + (i % 9)) };
}

t.test('in readSnapshot the parser hashes the metadata frames only; elsewhere every byte', async (t) => {
  const file = path.join(t.testdir(), 'one-pass.snap');
  await writeSnapshot(entries(), file, { codec: 'zstd', blockSize: 64 * 1024 });
  const size = fs.statSync(file).size;
  let hashed = 0;
  const { SnapshotParser } = await t.mockImport<typeof import('../../lib/snapshot/snapshot-parser.js')>('../../lib/snapshot/snapshot-parser.js', {
    '../../lib/format/crc32.js': {
      ...realCrc,
      crc32: (data: Uint8Array, previous?: number) => {
        hashed += data.length;
        return realCrc.crc32(data, previous);
      },
    },
  });
  const run = async (parser: InstanceType<typeof SnapshotParser>): Promise<number> => {
    hashed = 0;
    let blocks = 0;
    await pipeline(fs.createReadStream(file), parser, new Writable({ objectMode: true, write: (_b, _e, cb) => (blocks++, cb()) }));
    t.ok(blocks > 10 && parser.footer !== null, `${blocks} blocks, the footer checked`);
    return hashed;
  };
  const inRecipe = await run(new SnapshotParser(withLeases({}, new Leases())));
  t.ok(inRecipe < size / 4, `readSnapshot's parser: ${inRecipe} bytes of a ${size}-byte file hashed on the main thread`);
  t.equal(await run(new SnapshotParser()), size, 'a parser anyone made: every byte of the file');
});
