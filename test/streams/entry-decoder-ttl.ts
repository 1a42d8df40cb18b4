/**
 * TTL in EntryDecoder: with `skipExpired`, entries whose expiresAt is at or before `now` are
 * skipped (equal counts as expired); the rest keep their exact absolute expiresAt. Without
 * `skipExpired` every entry comes back.
 */
import t from 'tap';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EntryDecoder, EntryEncoder, type DecodedEntry, type Entry } from '../../lib/index.js';

const NOW = 1_750_000_000_000;

const entries: Entry[] = [
  { key: 'no-expiry', value: 'v0' },
  { key: 'expired-long-ago', value: 'v1', expiresAt: 1 },
  { key: 'epoch-zero', value: 'v2', expiresAt: 0 },
  { key: 'one-ms-before', value: 'v3', expiresAt: NOW - 1 },
  { key: 'exactly-now', value: 'v4', expiresAt: NOW },
  { key: 'one-ms-after', value: 'v5', expiresAt: NOW + 1 },
  { key: Buffer.from('far-future'), value: Buffer.from('v6'), expiresAt: Number.MAX_SAFE_INTEGER },
  { key: 'null-expiry', value: 'v7', expiresAt: null },
];

async function encode(list: Entry[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(list),
    new EntryEncoder(),
    new Writable({
      write(c: Buffer, _e, cb) {
        out.push(c);
        cb();
      },
    }),
  );
  return out;
}

async function decode(chunks: Buffer[], decoder: EntryDecoder): Promise<DecodedEntry[]> {
  const out: DecodedEntry[] = [];
  await pipeline(
    Readable.from(chunks),
    decoder,
    new Writable({
      objectMode: true,
      write(e: DecodedEntry | DecodedEntry[], _x, cb) {
        if (Array.isArray(e)) out.push(...e);
        else out.push(e);
        cb();
      },
    }),
  );
  return out;
}

function summary(list: DecodedEntry[]): [string, number | undefined][] {
  return list.map((e) => [e.key.toString(), e.expiresAt]);
}

t.test('skipExpired with now: at or before now is skipped, the rest keep their exact expiry', async (t) => {
  const chunks = await encode(entries);
  const decoder = new EntryDecoder({ skipExpired: true, now: NOW });
  const got = await decode(chunks, decoder);
  t.strictSame(summary(got), [
    ['no-expiry', undefined],
    ['one-ms-after', NOW + 1],
    ['far-future', Number.MAX_SAFE_INTEGER],
    ['null-expiry', undefined],
  ]);
  t.notOk('expiresAt' in got[0]!, 'an entry without expiry has no expiresAt field');
  t.equal(got[1]!.value, 'v5', 'values of kept entries intact');
  t.equal(decoder.entries, entries.length, 'entries counts every record read');
  t.equal(decoder.expired, 4, 'expired counts the skipped ones');
});

t.test('without skipExpired everything comes back, expired or not', async (t) => {
  const chunks = await encode(entries);
  for (const options of [{}, { now: NOW }, { skipExpired: false, now: NOW }]) {
    const decoder = new EntryDecoder(options);
    const got = await decode(chunks, decoder);
    t.strictSame(
      summary(got),
      entries.map((e) => [e.key.toString(), e.expiresAt ?? undefined]),
      `options ${JSON.stringify(options)}`,
    );
    t.equal(decoder.expired, 0);
  }
});

t.test('the boundary moves with now', async (t) => {
  const chunks = await encode(entries);
  const kept = async (now: number) => summary(await decode(chunks, new EntryDecoder({ skipExpired: true, now }))).map(([k]) => k);
  t.strictSame(await kept(NOW - 1), ['no-expiry', 'exactly-now', 'one-ms-after', 'far-future', 'null-expiry']);
  t.strictSame(await kept(NOW + 1), ['no-expiry', 'far-future', 'null-expiry']);
  t.strictSame(await kept(0), ['no-expiry', 'expired-long-ago', 'one-ms-before', 'exactly-now', 'one-ms-after', 'far-future', 'null-expiry']);
});

t.test('skipExpired without now judges against the time the decoder was made', async (t) => {
  const real = Date.now();
  const list: Entry[] = [
    { key: 'past', value: '', expiresAt: real - 60_000 },
    { key: 'future', value: '', expiresAt: real + 3_600_000 },
  ];
  const got = await decode(await encode(list), new EntryDecoder({ skipExpired: true }));
  t.strictSame(summary(got), [['future', real + 3_600_000]]);
});

t.test('skipExpired with batch: true and with records split across chunks', async (t) => {
  const many: Entry[] = [];
  for (let i = 0; i < 5000; i++) many.push({ key: `k${i}`, value: `v${i}`, expiresAt: NOW - 2500 + i });
  const bytes = Buffer.concat(await encode(many));
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += 1000) chunks.push(bytes.subarray(at, at + 1000));
  const decoder = new EntryDecoder({ skipExpired: true, now: NOW, batch: true });
  const got = await decode(chunks, decoder);
  t.equal(got.length, 2499, 'expiresAt NOW-2500 … NOW skipped, NOW+1 … kept');
  t.equal(got[0]!.key, 'k2501');
  t.equal(got[0]!.expiresAt, NOW + 1);
  t.equal(got.at(-1)!.expiresAt, NOW + 2499);
  t.equal(decoder.expired, 2501);
});
