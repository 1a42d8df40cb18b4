/**
 * Views of a Buffer's bytes, made the cheaper way for the running Node. The entry parser makes
 * two per entry (a key and a value), which is most of what reading small entries costs on the
 * main thread (docs/BENCHMARKS.md, "Reading entries and bytes").
 *
 * Node's `buf.subarray()` reads the source's `buffer` accessor on every call. Up to Node 20
 * (V8 11) that accessor is a call into C++, and `Buffer.from(memory, offset, length)` with the
 * memory and offset read once per source is cheaper; from Node 22 on the accessor is cheap and
 * `subarray` is the cheaper one (figures: `npm run bench:view-cost`). Both make real Buffers
 * (`Buffer.isBuffer`, `Object.getPrototypeOf(view) === Buffer.prototype`, every Buffer method).
 * Not exported from the package.
 */

/** Makes the view `source[start, end)`; `memory` and `byteOffset` are `source.buffer` and `source.byteOffset`, read once by the caller. */
export type ViewMaker = (source: Buffer, memory: ArrayBufferLike, byteOffset: number, start: number, end: number) => Buffer;

/** `source.subarray(start, end)`. */
export const viewBySubarray: ViewMaker = (source, _memory, _byteOffset, start, end) => source.subarray(start, end);

/** `Buffer.from(memory, byteOffset + start, end - start)`: no accessor read per view. */
export const viewFromMemory: ViewMaker = (_source, memory, byteOffset, start, end) => Buffer.from(memory, byteOffset + start, end - start);

/** The cheaper way on Node `major`. */
export function viewMakerFor(major: number): ViewMaker {
  return major < 22 ? viewFromMemory : viewBySubarray;
}

/** The cheaper way on the running Node. */
export const bufferView: ViewMaker = viewMakerFor(Number(process.versions.node.split('.')[0]));
