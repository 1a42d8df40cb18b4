/**
 * zstd-napi's binding for the calling thread, loaded on first use: a process that only starts
 * the CLI, or only stores data that does not compress, never loads it (docs/CLI.md, "Start-up").
 */
import { createRequire } from 'node:module';
import type * as Binding from 'zstd-napi/binding.js';

const require = createRequire(import.meta.url);
let loaded: typeof Binding | undefined;

/** The binding, loaded on the first call. */
export function zstdBinding(): typeof Binding {
  loaded ??= require('zstd-napi/binding.js') as typeof Binding;
  return loaded;
}
