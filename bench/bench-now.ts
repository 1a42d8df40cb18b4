/** Fixed so every run encodes the same bytes. */
export const BENCH_NOW = 1_800_000_000_000;
