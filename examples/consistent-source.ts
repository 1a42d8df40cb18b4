// A custom snapshot source that keeps the promise every source must keep: the snapshot holds
// exactly the state at the index in its header, while the application goes on writing.
//
// The state is a versioned key-value store: each write adds a version instead of overwriting,
// so a view is just "the version number now" — taken, with the index, in the caller's tick —
// and reading it later yields, for each key, its newest value at or before that version.
// Versions older than every open view are dropped as the writes go on.
//
// Run: node --import ./node_modules/@tapjs/typescript/dist/esm/import.mjs examples/consistent-source.ts
// (or compile it with tsc); it prints what it did and exits non-zero if anything differs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mapApplier, DirectorySnapshotStore, type Entry, type SnapshotMap, type SnapshotSource } from 'snapstream';

class VersionedStore {
  /** key → versions, oldest first: [version, value or null for a delete]. */
  private readonly rows = new Map<string, [number, string | null][]>();
  private readonly views = new Set<number>();
  version = 0;

  set(key: string, value: string | null): void {
    const row = this.rows.get(key) ?? [];
    row.push([++this.version, value]);
    // Keep the newest version each open view can see, and the new one.
    const oldest = Math.min(this.version, ...this.views);
    while (row.length > 1 && row[1]![0] <= oldest) row.shift();
    this.rows.set(key, row);
  }

  /** The state as of now, as a snapshot source: the view and its index in one tick. */
  source(): SnapshotSource {
    const at = this.version; // the view: nothing written after it is read
    const meta = { index: at }; // its metadata, taken with it
    this.views.add(at);
    const rows = this.rows;
    return {
      *entries(cursor: unknown): Generator<Entry> {
        const skip = typeof cursor === 'number' ? cursor : 0;
        let n = 0;
        for (const [key, row] of rows) {
          // The newest version at or before the view (rows only grow at their end).
          let value: string | null = null;
          for (const [v, val] of row) if (v <= at) value = val;
          if (value === null || n++ < skip) continue;
          yield { key, value };
        }
      },
      meta: () => meta,
      close: () => {
        this.views.delete(at);
      },
    };
  }
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snapstream-consistent-'));
const db = new VersionedStore();
const key = (i: number): string => `user:${(i * 7919) % 5003}`;
for (let i = 0; i < 20_000; i++) db.set(key(i), i % 9 === 0 ? null : `profile ${i}`);

const store = await DirectorySnapshotStore.at(path.join(dir, 'store'), { write: { codec: 'lz4' } });
// The expected state at this index, and the snapshot's view, in one tick.
const expected: SnapshotMap = new Map();
for (let i = 0; i < 20_000; i++) {
  const value = i % 9 === 0 ? null : `profile ${i}`;
  if (value === null) expected.delete(key(i));
  else expected.set(key(i), value);
}
const creating = store.create(db.source());
// The application goes on writing while the snapshot is written.
let writes = 0;
let done = false;
const writer = (): void => {
  if (done) return;
  for (let k = 0; k < 500; k++, writes++) db.set(key(20_000 + writes), `newer ${writes}`);
  setImmediate(writer);
};
setImmediate(writer);
const snap = await creating.finally(() => (done = true));
console.log(`snapshot ${snap.id}: ${snap.entries} entries at index ${snap.index}; ${writes} writes while it was written`);

const restored: SnapshotMap = new Map();
await store.restore(mapApplier(restored));
await store.close();
fs.rmSync(dir, { recursive: true, force: true });
const same = restored.size === expected.size && [...expected].every(([k, v]) => restored.get(k) === v);
if (!same || snap.index !== 20_000) {
  console.error(`the restored state differs from the state at index ${snap.index}`);
  process.exit(1);
}
console.log(`restored ${restored.size} entries: exactly the state at index ${snap.index}`);
