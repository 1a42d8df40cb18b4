/**
 * Views of a Buffer's bytes, made the cheapest way the running Node allows. The entry parser
 * makes two per entry (a key and a value), which is most of what reading small entries costs
 * on the main thread (docs/BENCHMARKS.md, "Reading entries and bytes").
 *
 * `buf.subarray()` reads the source's `buffer` accessor on every call (up to Node 20 a call
 * into C++) and looks up the species constructor; `Buffer.from(memory, offset, length)`
 * validates its arguments first. Both then construct Node's own Buffer class, which
 * `Buffer[Symbol.species]` names (the constructor `subarray` calls, with the arguments
 * `(memory, byteOffset, length)` the language defines for it): constructing it directly costs
 * about half (figures: `npm run bench:view-cost`). All make real Buffers (`Buffer.isBuffer`,
 * `Object.getPrototypeOf(view) === Buffer.prototype`, every Buffer method).
 * Not exported from the package.
 */

/** Makes the view `source[start, end)`; `memory` and `byteOffset` are `source.buffer` and `source.byteOffset`, read once by the caller. */
export type ViewMaker = (source: Buffer, memory: ArrayBufferLike, byteOffset: number, start: number, end: number) => Buffer;

/** `source.subarray(start, end)`. */
export const viewBySubarray: ViewMaker = (source, _memory, _byteOffset, start, end) => source.subarray(start, end);

/** `Buffer.from(memory, byteOffset + start, end - start)`: no accessor read per view. */
export const viewFromMemory: ViewMaker = (_source, memory, byteOffset, start, end) => Buffer.from(memory, byteOffset + start, end - start);

type BufferClass = new (memory: ArrayBufferLike, byteOffset: number, length: number) => Buffer;

/**
 * Node's Buffer class, `Buffer[Symbol.species]`, if constructing it makes a real Buffer over
 * the given memory (checked once); null otherwise, and the views are made with `Buffer.from`.
 */
export function speciesOf(buffer: unknown): BufferClass | null {
  const Species = (buffer as { [Symbol.species]?: unknown })[Symbol.species];
  if (typeof Species !== 'function') return null;
  try {
    const memory = new ArrayBuffer(8);
    const probe = new (Species as BufferClass)(memory, 2, 3) as unknown;
    const ok = Buffer.isBuffer(probe) && Object.getPrototypeOf(probe) === Buffer.prototype && probe.buffer === memory && probe.byteOffset === 2 && probe.length === 3;
    return ok ? (Species as BufferClass) : null;
  } catch {
    return null;
  }
}

const Species = speciesOf(Buffer);

/** `new Buffer[Symbol.species](memory, byteOffset + start, end - start)`: Node's Buffer class constructed directly. */
export const viewBySpecies: ViewMaker | null = Species ? (_source, memory, byteOffset, start, end) => new Species(memory, byteOffset + start, end - start) : null;

/** The cheapest way on the running Node. */
export const bufferView: ViewMaker = viewBySpecies ?? viewFromMemory;
