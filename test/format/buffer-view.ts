/**
 * The entry parser's views (buffer-view.ts) are real Buffers whichever way they are made: the
 * prototype Buffer's own make (deep-equality checks compare prototypes), every Buffer method,
 * the source's memory shared, in ordinary and shared memory; the parser constructs Node's own
 * Buffer class (`Buffer[Symbol.species]`) directly where that makes real Buffers, and falls back
 * to `Buffer.from` where it would not. Decoded keys and values are such Buffers, copied or not.
 */
import t from 'tap';
import { deepStrictEqual } from 'node:assert';
import { bufferView, speciesOf, viewBySpecies, viewBySubarray, viewFromMemory, type ViewMaker } from '../../lib/format/buffer-view.js';
import { EntryDecoder } from '../../lib/index.js';
import { encodeEntries, gatherDecoded } from '../fixtures/entry-bytes.js';

const makers: [string, ViewMaker][] = [
  ['subarray', viewBySubarray],
  ['from memory', viewFromMemory],
  ["Node's Buffer class (Buffer[Symbol.species])", viewBySpecies!],
  ['the running Node', bufferView],
];

for (const [name, view] of makers) {
  t.test(`${name}: a real Buffer over the source's bytes`, async (t) => {
    for (const memory of [new ArrayBuffer(64), new SharedArrayBuffer(64)]) {
      const whole = Buffer.from(memory);
      for (let i = 0; i < whole.length; i++) whole[i] = i;
      const source = whole.subarray(8, 40); // a view at an offset of its memory
      const v = view(source, source.buffer, source.byteOffset, 4, 12);
      t.ok(Buffer.isBuffer(v) && v instanceof Buffer, 'Buffer.isBuffer, instanceof Buffer');
      t.equal(Object.getPrototypeOf(v), Buffer.prototype, "Buffer's own prototype");
      t.equal(v.constructor, Buffer);
      t.equal(v.length, 8);
      t.equal(v.buffer, memory, 'the same memory');
      t.equal(v.byteOffset, 12);
      t.equal(v.readUInt32LE(0), 0x0f0e0d0c, 'Buffer methods');
      t.equal(v.toString('hex'), '0c0d0e0f10111213', 'toString');
      t.ok(v.equals(Buffer.from([12, 13, 14, 15, 16, 17, 18, 19])));
      deepStrictEqual(v, Buffer.from([12, 13, 14, 15, 16, 17, 18, 19]));
      source[4] = 99;
      t.equal(v[0], 99, 'shares the bytes');
      const empty = view(source, source.buffer, source.byteOffset, 32, 32);
      t.ok(Buffer.isBuffer(empty) && empty.length === 0, 'an empty view at the end');
    }
  });
}

t.test("views are made with Node's own Buffer class where it makes real Buffers, else with Buffer.from", async (t) => {
  t.equal(typeof viewBySpecies, 'function', 'this Node names its Buffer class as the species');
  t.equal(bufferView, viewBySpecies, 'and the parser uses it');
  t.equal(speciesOf(Buffer), (Buffer as unknown as { [Symbol.species]: unknown })[Symbol.species]);
  t.equal(speciesOf({}), null, 'no species');
  t.equal(speciesOf({ [Symbol.species]: Uint8Array }), null, 'a species that makes no Buffer');
  t.equal(speciesOf({ [Symbol.species]: (m: ArrayBuffer, o: number, l: number) => Buffer.from(m, o, l) }), null, 'one that cannot be constructed');
  // A Buffer class that ignores the memory it is given.
  const Fresh = function (this: unknown, _m: ArrayBufferLike, _o: number, length: number) {
    return Buffer.alloc(length);
  };
  t.equal(speciesOf({ [Symbol.species]: Fresh }), null, 'one that makes a Buffer over other memory');
});

t.test('decoded keys and values are real Buffers, copied or views of the input', async (t) => {
  const entries = Array.from({ length: 300 }, (_, i) => ({ key: Buffer.from(`key-${i}`), value: Buffer.alloc(100 + (i % 50), i % 256) }));
  const bytes = await encodeEntries(entries);
  for (const copy of [true, false]) {
    const d = new EntryDecoder({ copy });
    const { entries: got, ended } = gatherDecoded(d);
    d.end(bytes.subarray(0)); // the input at an offset of Node's pool or its own memory
    await ended;
    t.equal(got.length, entries.length);
    deepStrictEqual(got, entries, `copy: ${copy}: deep-equal to what was written, prototypes and all`);
    t.equal(got.every((e) => (e.value as Buffer).buffer === bytes.buffer), !copy, copy ? 'copies' : 'views of the input');
  }
});
