/**
 * A point-in-time view of a live `Map` the application goes on writing, without copying its
 * values (docs/CONSISTENCY.md says why this design).
 *
 * Opening a view copies the keys, in order, into one array (8 bytes an entry; its time is
 * measured by `npm run bench:consistency`, docs/BENCHMARKS.md), and patches the map instance's `set`, `delete` and `clear` (own
 * properties shadowing `Map.prototype`): the first write to a key the view has not read yet
 * saves the value it replaces (copy-on-write; a write only logs it, the reader files it; a
 * write to a string key already read is recognised by a table of the keys read, 5–11 bytes an
 * entry, and costs nothing more). The view's
 * value of its i-th key is the saved one if there is one, else the live one, which cannot have
 * changed — read along a walk of the live map in its order rather than looked up, since a key
 * not moved since is where the view has it. `clear()` freezes the values the view has not
 * handed out yet into an array (its one O(n) step; it replaces every value).
 *
 * Several views may be open at once; each keeps its own saved values. The patches go when the
 * last view closes (read to the end, stopped early, `close()`, or its source collected as
 * garbage), and an own `set`/`delete`/`clear` the map had before comes back.
 */
import { SourceChangedError } from '../errors.js';

type AnyMap = Map<unknown, unknown>;
type Method = 'set' | 'delete' | 'clear';

const mapGet = Map.prototype.get;
const mapHas = Map.prototype.has;
const mapEntries = Map.prototype.entries;
/** No live entry read ahead (a value no key can be: a fresh object). */
const NONE: unknown = Object.freeze({});
/** Writes logged before the writer itself files them (the reader files them before each read). */
const MAX_LOG = 65_536;
/** Slots probed at most in the table of keys read: past that a key counts as unread (saved, never wrong). */
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

/**
 * The string keys a view has handed out: a write to one of them needs nothing saved (the view
 * is done with it), so writes behind the reader cost no saved value and no filing. An open
 * addressing table (4 bytes a slot, at most three quarters full: 5–11 bytes an entry) of view
 * indices, each with 7 bits of its key's hash so that a probe rarely reads a key that does not
 * match; filled by the reader as it goes. Other keys (Buffers) are never in it.
 */
class ReadKeys {
  private readonly slots: Int32Array;
  private readonly mask: number;

  constructor(
    size: number,
    private keys: unknown[],
  ) {
    let cap = 16;
    while (cap < size * 1.34) cap *= 2;
    this.slots = new Int32Array(cap);
    this.mask = cap - 1;
  }

  /** Notes that the view's i-th key has been read (gives up quietly on a crowded spot). */
  add(i: number, key: unknown): void {
    if (typeof key !== 'string') return;
    const slots = this.slots;
    const hash = hashText(key);
    // A Map holds at most 2^24 entries: the index + 1 fits in 25 bits, the tag in the 7 above.
    const entry = ((hash >>> 25) << 25) | (i + 1);
    let h = hash & this.mask;
    for (let p = 0; p < MAX_PROBE; p++) {
      if (slots[h] === 0) {
        slots[h] = entry;
        return;
      }
      h = (h + 1) & this.mask;
    }
  }

  /** True when `key` is a view key already read. */
  has(key: string): boolean {
    const slots = this.slots;
    const hash = hashText(key);
    const tag = hash >>> 25;
    let h = hash & this.mask;
    for (let p = 0; p < MAX_PROBE; p++) {
      const entry = slots[h]!;
      if (entry === 0) return false;
      if (entry >>> 25 === tag && this.keys[(entry & 0x1ffffff) - 1] === key) return true;
      h = (h + 1) & this.mask;
    }
    return false;
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

/** One point-in-time view: its keys in order, and the values writes replaced since it opened. */
export class MapView {
  private keys: unknown[];
  private saved: Map<unknown, unknown> | null = new Map();
  /**
   * Writes not filed into `saved` yet: key, replaced value, key, replaced value… The write path
   * only appends here (one lookup in the map for the value it replaces); the hashing into
   * `saved` is done by the reader, in the snapshot's own time, before its next read.
   */
  private log: unknown[] = [];
  /** Set by `clear()`: the values from `frozenFrom` on, as of the view. */
  private frozen: unknown[] | null = null;
  private frozenFrom = 0;
  /** How far the view has been read: nothing before it is needed again. */
  position = 0;
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
  /** The string keys read so far (a write to them saves nothing). */
  private read: ReadKeys | null;

  constructor(private readonly map: AnyMap) {
    this.keys = Array.from(map.keys());
    this.read = new ReadKeys(this.keys.length, this.keys);
    attach(map, this);
  }

  /** Entries in the view. */
  get size(): number {
    return this.keys.length;
  }

  /** Values held for keys not read yet, the log filed first (for tests and diagnostics). */
  get savedValues(): number {
    if (this.saved === null) return 0;
    if (this.log.length > 0) this.file();
    return this.saved.size;
  }

  /** True until the view is closed. */
  get isOpen(): boolean {
    return this.open;
  }

  /** The i-th key of the view. */
  keyAt(i: number): unknown {
    return this.keys[i];
  }

  /** The view's value of its i-th key (fastest read in order, i = 0, 1, 2…). */
  valueAt(i: number): unknown {
    if (this.frozen) return this.frozen[i - this.frozenFrom];
    if (this.log.length > 0) this.file();
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
    this.read!.add(i, key);
    const saved = this.saved!;
    if (saved.size > 0) {
      const old = saved.get(key); // never undefined when saved
      if (old !== undefined) {
        saved.delete(key);
        return old;
      }
    }
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

  /** Called before `set(key)` or `delete(key)`: logs the value the write replaces (filed as saved if it is the first). */
  beforeWrite(key: unknown): void {
    if (this.saved === null) return;
    // Behind the reader: the view has its value already.
    if (typeof key === 'string' && this.read!.has(key)) return;
    const value = mapGet.call(this.map, key);
    // An absent key is either new since the view (not in it) or saved when it was deleted. (No
    // entry's value is undefined: the encoder refuses one; so no second lookup to tell.)
    if (value === undefined) return;
    const log = this.log;
    log.push(key, value);
    // Nobody reading (a stalled snapshot): the writer files its own writes, a batch at a time.
    if (log.length >= 2 * MAX_LOG) this.file();
  }

  /** Files the logged writes: the first value logged for a key is the view's (later ones replaced it after). */
  private file(): void {
    const log = this.log;
    const saved = this.saved!;
    for (let j = 0; j < log.length; j += 2) {
      const key = log[j];
      if (!saved.has(key)) saved.set(key, log[j + 1]);
    }
    log.length = 0;
  }

  /** Called before `clear()`: the values not read yet, frozen as the view has them. */
  beforeClear(): void {
    if (this.saved === null) return;
    const from = this.position;
    const values = new Array<unknown>(Math.max(0, this.keys.length - from));
    for (let i = from; i < this.keys.length; i++) values[i - from] = this.valueAt(i);
    this.frozen = values;
    this.frozenFrom = from;
    this.saved = null;
    this.log = [];
    this.read = null;
  }

  /** Releases the view's memory and, when it was the last one, the map's patches. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.keys = [];
    this.saved = null;
    this.log = [];
    this.read = null;
    this.frozen = null;
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
  }
  const installed: Patch['installed'] = {
    set: function (this: AnyMap, key: unknown, value: unknown) {
      if (this === map) for (let i = 0; i < views.length; i++) views[i]!.beforeWrite(key);
      return prev.set.call(this, key, value);
    },
    delete: function (this: AnyMap, key: unknown) {
      if (this === map) for (let i = 0; i < views.length; i++) views[i]!.beforeWrite(key);
      return prev.delete.call(this, key);
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
