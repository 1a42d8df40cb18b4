/**
 * Memory aligned for O_DIRECT writes, which Node cannot ask for: an O_DIRECT write must come from
 * memory aligned to the device's DMA alignment (512 bytes on the virtio disks measured here, up
 * to a page elsewhere), and Node's Buffers start anywhere malloc puts them. A WebAssembly.Memory
 * is mapped by V8 on its own, page-aligned by construction, and a Buffer over its ArrayBuffer
 * is an ordinary one that fs can write from. If a file system wants more alignment than a page,
 * its direct writes fail with EINVAL and the writer falls back to the page cache
 * (direct-writer.ts): alignment is never assumed beyond what a write proves.
 *
 * The memory is the file sink's own staging, never handed to a caller. A few freed ones are kept
 * for the next sink: V8 reserves a large range of address space per WebAssembly memory, so a
 * process receiving snapshot after snapshot should not leave one per transfer for the collector.
 */

/** A WebAssembly page: the unit its memories come in, and the alignment they are sure to have. */
export const WASM_PAGE = 64 * 1024;

/** The part of the WebAssembly API used here (not in this project's TypeScript libraries). */
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum?: number }) => { buffer: ArrayBuffer };
}
const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/** Freed memories kept for reuse, by size. */
const free: ArrayBuffer[] = [];
const MAX_FREE = 2;

/**
 * `bytes` (rounded up to 64 KiB) of page-aligned memory, or null where WebAssembly is not
 * available (`--jitless`) or the memory cannot be had.
 */
export function allocAligned(bytes: number): Buffer | null {
  const size = Math.ceil(bytes / WASM_PAGE) * WASM_PAGE;
  const i = free.findIndex((b) => b.byteLength === size);
  if (i >= 0) return Buffer.from(free.splice(i, 1)[0]!);
  if (!wasm) return null;
  try {
    const memory = new wasm.Memory({ initial: size / WASM_PAGE, maximum: size / WASM_PAGE });
    return Buffer.from(memory.buffer);
  } catch {
    return null;
  }
}

/** Gives back memory from {@link allocAligned} that nothing uses any more (no write in flight reads it). */
export function freeAligned(memory: Buffer): void {
  if (free.length < MAX_FREE) free.push(memory.buffer as ArrayBuffer);
}
