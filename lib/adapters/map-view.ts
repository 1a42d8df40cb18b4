/**
 * A point-in-time view of a live `Map` the application goes on writing, without copying its
 * values (docs/CONSISTENCY.md says why this design).
 *
 * Opening a view copies the keys, in order, into one array (8 bytes an entry; its time is
 * measured by `npm run bench:consistency`, docs/BENCHMARKS.md), and patches the map instance's `set`, `delete` and `clear` (own
 * properties shadowing `Map.prototype`): the first write to a key the view has not read yet
 * saves the value it replaces (copy-on-write). One table (KeyTable, 5–11 bytes an entry) holds
 * the string keys read and those saved, so a write costs one hash and one probe to learn that
 * the view needs nothing, and a lookup in the map only the first time a key not read yet is
 * written. The view's value of its i-th key is the saved one if there is one, else the live one,
 * which cannot have changed — read along a walk of the live map in its order rather than looked
 * up, since a key not moved since is where the view has it. `clear()` freezes the values the view has not
 * handed out yet into an array (its one O(n) step; it replaces every value).
 *
 * Several views may be open at once; each keeps its own saved values. The patches go when the
 * last view closes (read to the end, stopped early, `close()`, or its source collected as
 * garbage), and an own `set`/`delete`/`clear` the map had before comes back.
 */
import { InvalidArgumentError, SourceChangedError } from '../errors.js';

type AnyMap = Map<unknown, unknown>;
type Method = 'set' | 'delete' | 'clear';

const mapGet = Map.prototype.get;
const mapHas = Map.prototype.has;
const mapEntries = Map.prototype.entries;
/** No live entry read ahead (a value no key can be: a fresh object). */
const NONE: unknown = Object.freeze({});
/** Slots probed at most in the key table: past that a key counts as unread (saved, never wrong). */
const MAX_PROBE = 32;

/**
 * A hash of a key's text (FNV-1a, then mixed): the whole text up to 4096 UTF-16 units, then its
 * length and its last 64 units. Only its quality matters, never its value: a collision costs a
 * probe, and too many probes only a value saved that need not be.
 */
export function hashText(s: string): number {
  const n = s.length;
  let h = 0x811c9dc5 ^ n;
  const head = n <= 4096 ? n : 4096;
  for (let i = 0; i < head; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  if (n > head) for (let i = n - 64; i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
}

/** Saved keys and values per chunk (pairs): a chunk is a regular heap object, never copied as the store grows. */
const CHUNK_BITS = 12;
const CHUNK = 1 << CHUNK_BITS;
/** Index field of a table slot: bits 0–24 hold an index + 1 (a Map holds at most 2^24 entries). */
const INDEX_MASK = 0x1ffffff;
/** Set in a slot whose index is a saved value's, clear in one whose index is a view key's (read). */
const SAVED = 0x2000000;
/** A slot's top 6 bits: bits of its key's hash, so that a probe rarely reads a key that does not match. */
const TAG_SHIFT = 26;
/** Fuller than this, the table takes no more keys: probe chains stay short (the rest go to the spill map). */
const MAX_LOAD = 0.8;

/**
 * What a view knows of its string keys, in one open addressing table (4 bytes a slot, sized for
 * at most three quarters of the view's keys: 5–11 bytes an entry): a key the view has read
 * (a slot holding its view index: a write to it needs nothing saved), or a key written before
 * the view read it (a slot holding the index of the value saved for it: a later write needs
 * nothing either). One hash and one probe answer both on every write; the values saved live in
 * chunked arrays beside the table, dropped once read. Keys the table does not take (other than
 * strings, a crowded spot, a full table) are saved in a Map instead, first value wins.
 */
class KeyTable {
  private readonly slots: Int32Array;
  private readonly mask: number;
  private readonly limit: number;
  private used = 0;
  /** Saved pairs (key, value), CHUNK pairs a chunk; index s at chunks[s / CHUNK][2 (s % CHUNK)]. */
  private readonly chunks: unknown[][] = [];
  private nextSaved = 0;
  /** Saved values of keys the table does not hold. */
  readonly spill = new Map<unknown, unknown>();
  /** Values saved and not read yet. */
  count = 0;

  constructor(
    size: number,
    private readonly keys: unknown[],
  ) {
    let cap = 16;
    while (cap < size * 1.34) cap *= 2;
    this.slots = new Int32Array(cap);
    this.mask = cap - 1;
    this.limit = Math.floor(cap * MAX_LOAD);
  }

  /**
   * Before a write to `key` (whose value now is looked up only if needed): saves the value it
   * replaces unless the view has read the key or saved it already.
   */
  beforeWrite(map: AnyMap, key: unknown): void {
    let spot = -1;
    let hash = 0;
    if (typeof key === 'string') {
      const slots = this.slots;
      hash = hashText(key);
      const tag = hash >>> TAG_SHIFT;
      let h = hash & this.mask;
      for (let p = 0; p < MAX_PROBE; p++) {
        const entry = slots[h]!;
        if (entry === 0) {
          spot = h;
          break;
        }
        if (entry >>> TAG_SHIFT === tag && this.keyOf(entry) === key) return;
        h = (h + 1) & this.mask;
      }
    }
    const value = mapGet.call(map, key);
    // An absent key is either new since the view (not in it) or saved when it was deleted. (No
    // entry's value is undefined: the encoder refuses one; so no second lookup to tell.)
    if (value === undefined) return;
    const spill = this.spill;
    if (spill.size > 0 && spill.has(key)) return;
    this.count++;
    const s = this.nextSaved;
    if (spot < 0 || this.used >= this.limit || s >= INDEX_MASK - 1) {
      spill.set(key, value);
      return;
    }
    this.nextSaved = s + 1;
    let chunk = this.chunks[s >>> CHUNK_BITS];
    if (chunk === undefined) this.chunks.push((chunk = new Array<unknown>(2 * CHUNK)));
    const at = (s & (CHUNK - 1)) << 1;
    chunk[at] = key;
    chunk[at + 1] = value;
    this.slots[spot] = ((hash >>> TAG_SHIFT) << TAG_SHIFT) | SAVED | (s + 1);
    this.used++;
  }

  /**
   * The reader takes the view's i-th key: returns the value saved for it (NONE if none) and
   * notes it read, so that later writes to it save nothing.
   */
  take(i: number, key: unknown): unknown {
    if (typeof key !== 'string') return this.takeSpilled(key);
    const slots = this.slots;
    const hash = hashText(key);
    const tag = hash >>> TAG_SHIFT;
    const read = (tag << TAG_SHIFT) | (i + 1);
    let h = hash & this.mask;
    for (let p = 0; p < MAX_PROBE; p++) {
      const entry = slots[h]!;
      if (entry === 0) {
        const saved = this.takeSpilled(key);
        // Noted read if the table has room. (A key spilled for want of room finds none now
        // either, since slots only fill, so no key is ever both in the table and spilled.)
        if (this.used < this.limit) {
          slots[h] = read;
          this.used++;
        }
        return saved;
      }
      if (entry >>> TAG_SHIFT === tag && entry & SAVED) {
        const at = ((entry & INDEX_MASK) - 1) & (CHUNK - 1);
        const chunk = this.chunks[((entry & INDEX_MASK) - 1) >>> CHUNK_BITS]!;
        if (chunk[at << 1] === key) {
          const value = chunk[(at << 1) + 1];
          chunk[at << 1] = undefined;
          chunk[(at << 1) + 1] = undefined;
          slots[h] = read;
          this.count--;
          return value;
        }
      }
      h = (h + 1) & this.mask;
    }
    return this.takeSpilled(key);
  }

  private takeSpilled(key: unknown): unknown {
    const spill = this.spill;
    if (spill.size === 0) return NONE;
    const value = spill.get(key);
    if (value === undefined) return NONE;
    spill.delete(key);
    this.count--;
    return value;
  }

  /** The key a slot's entry stands for. */
  private keyOf(entry: number): unknown {
    const index = (entry & INDEX_MASK) - 1;
    if ((entry & SAVED) === 0) return this.keys[index];
    return this.chunks[index >>> CHUNK_BITS]![(index & (CHUNK - 1)) << 1];
  }
}

/** What is installed on one map while views of it are open. */
interface Patch {
  views: MapView[];
  /** The methods the patches call (own ones the map had, or the prototype's). */
  prev: Record<Method, (...args: unknown[]) => unknown>;
  /** The own properties the map had before, restored when the last view closes. */
  own: Partial<Record<Method, PropertyDescriptor>>;
  /** The patches themselves, to tell whether someone replaced them since. */
  installed: Record<Method, (...args: unknown[]) => unknown>;
}

const patches = new WeakMap<AnyMap, Patch>();

/** One point-in-time view: its keys in order, and the values writes replaced before it read them. */
export class MapView {
  private keys: unknown[];
  /** Entries in the view (kept once closed: a reading cut short by a close fails, never ends early). */
  readonly size: number;
  /** Keys read and values saved (null once cleared or closed: nothing more to save). */
  private table: KeyTable | null;
  /** Set by `clear()`: the values from `frozenFrom` on, as of the view. */
  private frozen: unknown[] | null = null;
  private frozenFrom = 0;
  /** Set by `clear()` when it found a key deleted round the patches: the reader fails there. */
  private broken: { at: number; error: unknown } | null = null;
  /**
   * The first entry not handed out yet: each entry is handed out once, in order (a write to a
   * key read saves nothing, so the view no longer knows its value), and `clear()` freezes the
   * values from here on.
   */
  private next = 0;
  private open = true;
  /**
   * The live map read along with the view, in insertion order: a key not written since the
   * view opened is still in its place, and its value comes from this walk instead of a lookup
   * (a hash lookup in a big map costs several times a step of its iterator).
   */
  private live: Iterator<[unknown, unknown]> | null = null;
  /** The live entry read ahead: its key (NONE when there is none) and its value when it was read. */
  private liveKey: unknown = NONE;
  private liveValue: unknown;

  constructor(private readonly map: AnyMap) {
    this.keys = Array.from(map.keys());
    this.size = this.keys.length;
    this.table = new KeyTable(this.keys.length, this.keys);
    attach(map, this);
  }

  /** The first entry not handed out yet. */
  get position(): number {
    return this.next;
  }

  /** Values saved and not read yet (for tests and diagnostics). */
  get savedValues(): number {
    return this.table?.count ?? 0;
  }

  /** True until the view is closed. */
  get isOpen(): boolean {
    return this.open;
  }

  /** The i-th key of the view. */
  keyAt(i: number): unknown {
    return this.keys[i];
  }

  /**
   * The view's value of its i-th key, handed out once: i at least the position (fastest read
   * in order, i = 0, 1, 2…); entries skipped are not handed out later.
   */
  valueAt(i: number): unknown {
    if (!this.open) throw new InvalidArgumentError('this map view is closed: take a new one');
    if (i < this.next) throw new InvalidArgumentError(`entry ${i} of this map view was handed out already (each is handed out once, in order): take a new view`);
    this.next = i + 1;
    if (this.frozen === null) return this.read(i);
    if (this.broken !== null && i >= this.broken.at) throw this.broken.error;
    return this.frozen[i - this.frozenFrom];
  }

  /** The view's value of its i-th key, not handed out yet. */
  private read(i: number): unknown {
    const key = this.keys[i];
    if (this.live === null) this.startLive(i);
    // The live walk reaches the view's keys in their order, less those deleted or moved since
    // (and then new keys, after all of them): it either stands at this key or at a later one.
    let ahead: unknown = NONE;
    if (key === this.liveKey) {
      ahead = this.liveValue;
      this.stepLive();
    }
    // Read now: later writes to it need nothing saved, and its saved value is needed no more.
    const saved = this.table!.take(i, key);
    if (saved !== NONE) return saved;
    // Not saved: not written since the view opened, so the value read ahead (after the view
    // opened) is the view's.
    if (ahead !== NONE) return ahead;
    const value = mapGet.call(this.map, key);
    // Only a write that went round the patches (Map.prototype.delete.call(map, …)) gets here.
    if (value === undefined && !mapHas.call(this.map, key)) {
      throw new SourceChangedError(`a key of the map was deleted behind its point-in-time view (not through map.delete)`);
    }
    return value;
  }

  /** Starts the live walk where a read from `from` on finds its keys (the map's order is the view's but for what was written since). */
  private startLive(from: number): void {
    this.live = mapEntries.call(this.map) as Iterator<[unknown, unknown]>;
    for (let j = 0; j < from; j++) if (this.live.next().done) break;
    this.stepLive();
  }

  private stepLive(): void {
    const step = this.live!.next();
    if (step.done) {
      this.liveKey = NONE;
      this.liveValue = undefined;
    } else {
      this.liveKey = step.value[0];
      this.liveValue = step.value[1];
    }
  }

  /** Called before `set(key)` or `delete(key)`: saves the value the write replaces if the view still needs it. */
  beforeWrite(key: unknown): void {
    const table = this.table;
    if (table !== null) table.beforeWrite(this.map, key);
  }

  /** Called before `clear()`: the values not read yet, frozen as the view has them. */
  beforeClear(): void {
    if (this.table === null) return;
    // From the first entry not handed out: one handed out may have been deleted since.
    const from = this.next;
    const values = new Array<unknown>(Math.max(0, this.keys.length - from));
    for (let i = from; i < this.keys.length; i++) {
      try {
        values[i - from] = this.read(i);
      } catch (error) {
        // A key deleted round the patches: the snapshot fails when it gets there, not the
        // application's clear().
        this.broken = { at: i, error };
        break;
      }
    }
    this.frozen = values;
    this.frozenFrom = from;
    this.table = null;
    // The walk would keep the cleared map's old entries (read already) alive.
    this.live = null;
    this.liveKey = NONE;
    this.liveValue = undefined;
  }

  /** Releases the view's memory and, when it was the last one, the map's patches. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.keys = [];
    this.table = null;
    this.frozen = null;
    this.broken = null;
    this.live = null;
    this.liveKey = NONE;
    this.liveValue = undefined;
    detach(this.map, this);
  }
}

function attach(map: AnyMap, view: MapView): void {
  const existing = patches.get(map);
  if (existing) {
    existing.views.push(view);
    return;
  }
  const views = [view];
  const prev = { set: map.set, delete: map.delete, clear: map.clear } as Patch['prev'];
  const own: Patch['own'] = {};
  for (const name of ['set', 'delete', 'clear'] as const) {
    const d = Object.getOwnPropertyDescriptor(map, name);
    if (d) own[name] = d;
    // Checked before patching anything: a write the view cannot see would change the snapshot.
    if (d ? !d.configurable : !Object.isExtensible(map)) {
      throw new InvalidArgumentError(`the map's ${name}() cannot be patched (a frozen or sealed map): a point-in-time view needs to see its writes`);
    }
  }
  // The methods called through constants of this closure, and one view without a loop: with
  // `prev.set.call(…)` and the loop, the write path of an open view cost about twice as much
  // (docs/BENCHMARKS.md, "The write path's own cost").
  const prevSet = prev.set;
  const prevDelete = prev.delete;
  const installed: Patch['installed'] = {
    set: function (this: AnyMap, key: unknown, value: unknown) {
      if (this === map) {
        if (views.length === 1) views[0]!.beforeWrite(key);
        else for (let i = 0; i < views.length; i++) views[i]!.beforeWrite(key);
      }
      return prevSet.call(this, key, value);
    },
    delete: function (this: AnyMap, key: unknown) {
      if (this === map) {
        if (views.length === 1) views[0]!.beforeWrite(key);
        else for (let i = 0; i < views.length; i++) views[i]!.beforeWrite(key);
      }
      return prevDelete.call(this, key);
    },
    clear: function (this: AnyMap) {
      if (this === map) for (let i = 0; i < views.length; i++) views[i]!.beforeClear();
      return prev.clear.call(this);
    },
  } as Patch['installed'];
  for (const name of ['set', 'delete', 'clear'] as const) {
    Object.defineProperty(map, name, { value: installed[name], writable: true, configurable: true, enumerable: false });
  }
  patches.set(map, { views, prev, own, installed });
}

function detach(map: AnyMap, view: MapView): void {
  const patch = patches.get(map);
  if (!patch) return;
  const i = patch.views.indexOf(view);
  if (i >= 0) patch.views.splice(i, 1);
  if (patch.views.length > 0) return;
  patches.delete(map);
  for (const name of ['set', 'delete', 'clear'] as const) {
    // Replaced by someone since: theirs stays (ours, under it, is a plain pass-through now).
    if (Object.getOwnPropertyDescriptor(map, name)?.value !== patch.installed[name]) continue;
    const before = patch.own[name];
    if (before) Object.defineProperty(map, name, before);
    else delete (map as unknown as Record<string, unknown>)[name];
  }
}

/** Views whose source was dropped without being read to the end or closed. */

/** Views open on `map` now (for tests and diagnostics). */
export function openViews(map: AnyMap): number {
  return patches.get(map)?.views.length ?? 0;
}
