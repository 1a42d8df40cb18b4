/**
 * Bad options are refused when a stage is made, with an InvalidArgumentError
 * (SNAP_ERR_INVALID_ARGUMENT): unknown codec, zstd level out of −7…22, blockSize out of
 * 4 KiB…64 MiB or not an integer, concurrency not a positive integer. Good values at the
 * edges are accepted.
 */
import t from 'tap';
import {
  Compressor,
  createCompressor,
  Decompressor,
  EntryEncoder,
  InvalidArgumentError,
  SnapstreamError,
  writeSnapshot,
  type CompressorOptions,
} from '../../lib/index.js';

const bad: [string, CompressorOptions][] = [
  ['codec gzip', { codec: 'gzip' as never }],
  ['codec empty string', { codec: '' as never }],
  ['codec ZSTD (case matters)', { codec: 'ZSTD' as never }],
  ['level 23', { level: 23 }],
  ['level -8', { level: -8 }],
  ['level 1.5', { level: 1.5 }],
  ['level NaN', { level: NaN }],
  ['level "3"', { level: '3' as never }],
  ['blockSize 4095', { blockSize: 4095 }],
  ['blockSize 0', { blockSize: 0 }],
  ['blockSize -1', { blockSize: -1 }],
  ['blockSize 64 MiB + 1', { blockSize: 64 * 1024 * 1024 + 1 }],
  ['blockSize 5000.5', { blockSize: 5000.5 }],
  ['blockSize Infinity', { blockSize: Infinity }],
  ['blockSize "1MiB"', { blockSize: '1MiB' as never }],
  ['concurrency 0', { concurrency: 0 }],
  ['concurrency -2', { concurrency: -2 }],
  ['concurrency 1.5', { concurrency: 1.5 }],
];

t.test('Compressor refuses bad options', async (t) => {
  for (const [name, options] of bad) {
    let err: unknown = null;
    try {
      new Compressor(options).destroy();
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof InvalidArgumentError, `${name}: InvalidArgumentError`);
    t.ok(err instanceof SnapstreamError, `${name}: a SnapstreamError`);
    t.match(err, { code: 'SNAP_ERR_INVALID_ARGUMENT', name: 'InvalidArgumentError' }, `${name}: code`);
    t.throws(() => createCompressor(options), { code: 'SNAP_ERR_INVALID_ARGUMENT' }, `${name}: factory too`);
  }
});

t.test('good values at the edges are accepted', async (t) => {
  const good: CompressorOptions[] = [
    {},
    { codec: 'zstd', level: -7 },
    { codec: 'zstd', level: 22 },
    { codec: 'zstd', level: 0 },
    { codec: 'lz4' },
    { codec: 'none' },
    { blockSize: 4096 },
    { blockSize: 64 * 1024 * 1024 },
    { concurrency: 1 },
    { blocks: true },
  ];
  for (const options of good) {
    const c = new Compressor(options);
    t.equal(c.codec, options.codec ?? 'zstd', `${JSON.stringify(options)}: codec`);
    t.equal(c.blockSize, options.blockSize ?? 1024 * 1024, `${JSON.stringify(options)}: blockSize`);
    t.equal(c.level, options.level ?? 1, `${JSON.stringify(options)}: level`);
    c.destroy();
  }
});

t.test('Decompressor refuses a bad concurrency', async (t) => {
  for (const concurrency of [0, -1, 2.5, NaN]) {
    t.throws(() => new Decompressor({ concurrency }), { code: 'SNAP_ERR_INVALID_ARGUMENT' }, `concurrency ${concurrency}`);
  }
  new Decompressor({ concurrency: 1 }).destroy();
});

t.test('EntryEncoder refuses a bad blockSize', async (t) => {
  for (const blockSize of [0, 4095, 64 * 1024 * 1024 + 1, 1.5]) {
    t.throws(() => new EntryEncoder({ blockSize }), { code: 'SNAP_ERR_INVALID_ARGUMENT' }, `blockSize ${blockSize}`);
  }
});

t.test('writeSnapshot refuses a bad codec or blockSize before creating anything', async (t) => {
  const dir = t.testdir();
  await t.rejects(writeSnapshot([], `${dir}/a.snap`, { codec: 'brotli' as never }), { code: 'SNAP_ERR_INVALID_ARGUMENT' });
  await t.rejects(writeSnapshot([], `${dir}/b.snap`, { blockSize: 100 }), { code: 'SNAP_ERR_INVALID_ARGUMENT' });
  await t.rejects(writeSnapshot([], `${dir}/c.snap`, { level: 99 }), { code: 'SNAP_ERR_INVALID_ARGUMENT' });
  const fs = await import('node:fs');
  t.same(fs.readdirSync(dir), [], 'no file, no partial');
});
