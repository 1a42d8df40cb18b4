/**
 * EntryDecoder with `copy: true`: keys and values never share memory with the input, so the
 * input may be reused or changed at once. Small ones are views of 8 KiB copies of the input made
 * once for many records; the same Buffer written again with other bytes gives the new bytes,
 * not the copy of the old ones; large ones are copies of their own.
 */
import t from 'tap';
import { EntryDecoder, type Entry } from '../../lib/index.js';
import { encodeEntries as encode, gatherDecoded } from '../fixtures/entry-bytes.js';

const make = (tag: string, n: number, size: number): Entry[] =>
  Array.from({ length: n }, (_, i) => ({ key: Buffer.from(`${tag}-key-${i}`), value: Buffer.alloc(size, `${tag}${i % 10}`) }));

t.test('copied keys and values outlive changes to the input, small and large', async (t) => {
  const entries = [...make('a', 200, 100), ...make('b', 3, 20_000), ...make('c', 200, 30)];
  const bytes = await encode(entries);
  const input = Buffer.from(bytes);
  const d = new EntryDecoder({ copy: true });
  const { entries: got, ended } = gatherDecoded(d);
  d.write(input);
  d.end();
  await ended;
  input.fill(0); // the input's owner reuses it
  t.equal(got.length, entries.length);
  t.ok(got.every((e, i) => (e.key as Buffer).equals(entries[i]!.key as Buffer) && (e.value as Buffer).equals(entries[i]!.value as Buffer)), 'every key and value intact');
  t.ok(got.every((e) => (e.value as Buffer).buffer !== input.buffer && (e.key as Buffer).buffer !== input.buffer), 'none is a view of the input');
});

t.test('the same Buffer written again with other bytes: the new bytes', async (t) => {
  const first = make('x', 50, 40);
  const second = make('y', 50, 40);
  const a = await encode(first);
  const b = await encode(second);
  t.equal(a.length, b.length, 'same layout');
  const reused = Buffer.from(a);
  const d = new EntryDecoder({ copy: true });
  const { entries: got, ended } = gatherDecoded(d);
  await new Promise<void>((resolve) => d.write(reused, () => resolve()));
  b.copy(reused); // its owner refills it after the write completed
  d.write(reused);
  d.end();
  await ended;
  const want = [...first, ...second];
  t.equal(got.length, want.length);
  t.ok(got.every((e, i) => (e.value as Buffer).equals(want[i]!.value as Buffer) && (e.key as Buffer).equals(want[i]!.key as Buffer)), 'each entry as written');
});
