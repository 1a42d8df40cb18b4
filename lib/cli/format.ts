/** Human-readable numbers for CLI output. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** Bytes per millisecond as MB/s. */
export function formatRate(bytes: number, ms: number): string {
  return `${(bytes / 1e6 / Math.max(ms / 1000, 1e-9)).toFixed(0)} MB/s`;
}
