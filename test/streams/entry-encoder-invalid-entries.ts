/**
 * Entries that are not `{ key, value, expiresAt? }` of the right types are refused with an
 * InvalidEntryError (code SNAP_ERR_INVALID_ENTRY) naming the entry's index, whether written
 * alone, inside a batch, or given to writeSnapshot.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EntryEncoder, InvalidEntryError, SnapstreamError, writeSnapshot, type Entry } from '../../lib/index.js';

function sink(): Writable {
  return new Writable({ objectMode: true, write: (_c, _e, cb) => cb() });
}

async function encodeAll(items: unknown[]): Promise<void> {
  await pipeline(Readable.from(items as Entry[]), new EntryEncoder(), sink());
}

const bad: [string, unknown][] = [
  ['a number', 42],
  ['a string', 'key=value'],
  ['a boolean', true],
  ['a function', () => 1],
  ['missing key', { value: 'v' }],
  ['missing value', { key: 'k' }],
  ['empty object', {}],
  ['number key', { key: 1, value: 'v' }],
  ['number value', { key: 'k', value: 12 }],
  ['null value', { key: 'k', value: null }],
  ['object value', { key: 'k', value: { nested: true } }],
  ['array key', { key: [1, 2], value: 'v' }],
  ['negative expiresAt', { key: 'k', value: 'v', expiresAt: -1 }],
  ['float expiresAt', { key: 'k', value: 'v', expiresAt: 1.5 }],
  ['NaN expiresAt', { key: 'k', value: 'v', expiresAt: NaN }],
  ['Infinity expiresAt', { key: 'k', value: 'v', expiresAt: Infinity }],
  ['expiresAt beyond 2^53', { key: 'k', value: 'v', expiresAt: 2 ** 53 }],
  ['string expiresAt', { key: 'k', value: 'v', expiresAt: '1700000000000' }],
  ['Date expiresAt', { key: 'k', value: 'v', expiresAt: new Date(0) }],
];

t.test('each kind of bad entry is an InvalidEntryError', async (t) => {
  for (const [name, entry] of bad) {
    const err = await encodeAll([{ key: 'ok', value: 'ok' }, entry]).then(
      () => null,
      (e: unknown) => e,
    );
    t.ok(err instanceof InvalidEntryError, `${name}: InvalidEntryError`);
    t.ok(err instanceof SnapstreamError, `${name}: a SnapstreamError`);
    t.match(err, { code: 'SNAP_ERR_INVALID_ENTRY', name: 'InvalidEntryError', seq: 1 }, `${name}: code and index`);
  }
});

t.test('good entries around the edge of validity are accepted', async (t) => {
  await t.resolves(
    encodeAll([
      { key: 'k', value: 'v', expiresAt: 0 },
      { key: 'k', value: 'v', expiresAt: Number.MAX_SAFE_INTEGER },
      { key: 'k', value: 'v', expiresAt: null },
      { key: 'k', value: 'v', expiresAt: undefined },
      { key: new Uint8Array(2), value: new Uint8Array(0) },
    ]),
  );
});

t.test('a bad entry inside a batch names its position in the whole stream', async (t) => {
  const batch = [{ key: 'a', value: 'b' }, { key: 'c', value: 'd' }, { key: 'e', value: 5 }];
  await t.rejects(encodeAll([{ key: 'first', value: 'x' }, batch]), { code: 'SNAP_ERR_INVALID_ENTRY', seq: 3 });
  await t.rejects(encodeAll([[null]]), { code: 'SNAP_ERR_INVALID_ENTRY', seq: 0 }, 'null inside a batch');
});

t.test('the encoder stops at the bad entry: nothing after it is emitted', async (t) => {
  const out: Buffer[] = [];
  const encoder = new EntryEncoder({ blockSize: 4096 });
  const items = [
    ...Array.from({ length: 1000 }, (_, i) => ({ key: `k${i}`, value: 'v'.repeat(20) })),
    { key: 'bad', value: 1 },
    { key: 'after', value: 'x' },
  ];
  await t.rejects(
    pipeline(
      Readable.from(items as Entry[]),
      encoder,
      new Writable({
        write(c: Buffer, _e, cb) {
          out.push(c);
          cb();
        },
      }),
    ),
    { code: 'SNAP_ERR_INVALID_ENTRY', seq: 1000 },
  );
  t.notOk(Buffer.concat(out).includes('after'), 'the entry after the bad one was not encoded');
});

t.test('writeSnapshot refuses a bad entry, leaving no snapshot file', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'bad.snap');
  const entries = [{ key: 'a', value: 'b' }, { key: 'c', value: 'd', expiresAt: -5 }] as Entry[];
  await t.rejects(writeSnapshot(entries, file), { code: 'SNAP_ERR_INVALID_ENTRY', seq: 1 });
  t.notOk(fs.existsSync(file), 'no file under the final name');
});
