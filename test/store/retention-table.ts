/**
 * snapshotsToPrune, table-tested: every combination of the four rules (maxSnapshots, maxAgeMs,
 * minIntervalMs, maxTotalBytes) on one fixture, with the expected ids worked out by hand from the
 * documented semantics (newest first; a snapshot is kept unless a rule drops it; the counts,
 * the byte total and the interval are taken over the snapshots kept). Then the protections:
 * the newest snapshot and snapshots in use are never dropped, whatever the policy, and still
 * count towards the limits. Then the same invariants over seeded random inputs.
 */
import t from 'tap';
import { snapshotsToPrune, type RetainedSnapshot, type RetentionPolicy } from '../../lib/store/retention.js';
import { mulberry32 } from '../fixtures/random.js';

const NOW = 10_000_000;
// id, age (ms before NOW), size
const FIXTURE: [string, number, number][] = [
  ['s0', 0, 100],
  ['s1', 10, 100],
  ['s2', 15, 100], // 5 ms after s1: too close for minIntervalMs 10
  ['s3', 40, 300], // large
  ['s4', 60, 100],
  ['s5', 62, 100], // 2 ms after s4
  ['s6', 100, 100], // older than maxAgeMs 70
  ['s7', 200, 500], // older than maxAgeMs, and large
];
const snapshots: RetainedSnapshot[] = FIXTURE.map(([id, age, size]) => ({ id, createdAt: NOW - age, size }));

const A: RetentionPolicy = { maxSnapshots: 4 };
const B: RetentionPolicy = { maxAgeMs: 70 };
const C: RetentionPolicy = { minIntervalMs: 10 };
const D: RetentionPolicy = { maxTotalBytes: 500 };

// Worked by hand, rule by rule, walking s0 → s7.
const table: [string, RetentionPolicy, string[]][] = [
  ['no rule', {}, []],
  ['maxSnapshots', A, ['s4', 's5', 's6', 's7']],
  ['maxAgeMs', B, ['s6', 's7']],
  ['minIntervalMs', C, ['s2', 's5']],
  // s3 would take the total to 600; s4 and s5 still fit (400, 500); s6 and s7 do not.
  ['maxTotalBytes', D, ['s3', 's6', 's7']],
  ['maxSnapshots + maxAgeMs', { ...A, ...B }, ['s4', 's5', 's6', 's7']],
  // s2 dropped by the interval does not count: s3 and s4 are the 3rd and 4th kept.
  ['maxSnapshots + minIntervalMs', { ...A, ...C }, ['s2', 's5', 's6', 's7']],
  // s3 dropped for its size does not count: s4 is the 4th kept.
  ['maxSnapshots + maxTotalBytes', { ...A, ...D }, ['s3', 's5', 's6', 's7']],
  ['maxAgeMs + minIntervalMs', { ...B, ...C }, ['s2', 's5', 's6', 's7']],
  ['maxAgeMs + maxTotalBytes', { ...B, ...D }, ['s3', 's6', 's7']],
  // s2 dropped by the interval leaves room for s3 (total 500); then nothing else fits.
  ['minIntervalMs + maxTotalBytes', { ...C, ...D }, ['s2', 's4', 's5', 's6', 's7']],
  ['maxSnapshots + maxAgeMs + minIntervalMs', { ...A, ...B, ...C }, ['s2', 's5', 's6', 's7']],
  ['maxSnapshots + maxAgeMs + maxTotalBytes', { ...A, ...B, ...D }, ['s3', 's5', 's6', 's7']],
  ['maxSnapshots + minIntervalMs + maxTotalBytes', { ...A, ...C, ...D }, ['s2', 's4', 's5', 's6', 's7']],
  ['maxAgeMs + minIntervalMs + maxTotalBytes', { ...B, ...C, ...D }, ['s2', 's4', 's5', 's6', 's7']],
  ['all four', { ...A, ...B, ...C, ...D }, ['s2', 's4', 's5', 's6', 's7']],
];

t.test('every combination of the four rules', async (t) => {
  t.equal(table.length, 16, 'all 2^4 combinations');
  for (const [name, policy, expected] of table) {
    t.same(snapshotsToPrune(snapshots, policy, NOW), expected, name);
  }
});

t.test('the input order does not matter', async (t) => {
  const shuffled = [snapshots[5]!, snapshots[0]!, snapshots[7]!, snapshots[2]!, snapshots[1]!, snapshots[6]!, snapshots[3]!, snapshots[4]!];
  for (const [name, policy, expected] of table) {
    t.same([...snapshotsToPrune(shuffled, policy, NOW)].sort(), expected, name);
  }
});

t.test('snapshots in use are kept, and count towards the limits', async (t) => {
  const rows: [string, RetentionPolicy, string[], string[]][] = [
    // s6 kept although it is the 5th: s7 still goes.
    ['maxSnapshots', A, ['s6'], ['s4', 's5', 's7']],
    // s2 kept although too close to s1; s3 is measured from s2 (25 ms): kept.
    ['minIntervalMs', C, ['s2'], ['s5']],
    // s3 kept although too large: the total is 600 after it, so s4 and s5 no longer fit.
    ['maxTotalBytes', D, ['s3'], ['s4', 's5', 's6', 's7']],
    ['maxAgeMs', B, ['s7'], ['s6']],
    ['all four', { ...A, ...B, ...C, ...D }, ['s7'], ['s2', 's4', 's5', 's6']],
    // s2 counts, so s3 no longer fits (600); s4 does (400), then s5 and s6 are kept in use (600).
    ['all four, several in use', { ...A, ...B, ...C, ...D }, ['s2', 's5', 's6'], ['s3', 's7']],
  ];
  for (const [name, policy, inUse, expected] of rows) {
    t.same(snapshotsToPrune(snapshots, policy, NOW, new Set(inUse)), expected, `${name}, in use: ${inUse.join(', ')}`);
  }
});

t.test('the newest snapshot is never dropped, even by a policy that would drop everything', async (t) => {
  const rows: [string, RetentionPolicy, number][] = [
    ['maxSnapshots 0', { maxSnapshots: 0 }, NOW],
    ['maxAgeMs 0, an hour later', { maxAgeMs: 0 }, NOW + 3_600_000],
    ['maxTotalBytes below the newest size', { maxTotalBytes: 50 }, NOW],
    ['all at their harshest', { maxSnapshots: 0, maxAgeMs: 0, minIntervalMs: 1e12, maxTotalBytes: 0 }, NOW + 3_600_000],
  ];
  for (const [name, policy, now] of rows) {
    t.same(snapshotsToPrune(snapshots, policy, now), ['s1', 's2', 's3', 's4', 's5', 's6', 's7'], name);
  }
  t.same(snapshotsToPrune([], { maxSnapshots: 0 }, NOW), [], 'an empty store');
  t.same(snapshotsToPrune([snapshots[3]!], { maxSnapshots: 0, maxTotalBytes: 0 }, NOW), [], 'a lone snapshot is the newest');
});


t.test('invariants over 2000 seeded random stores and policies', async (t) => {
  const rand = mulberry32(5);
  const int = (n: number): number => Math.floor(rand() * n);
  let checked = 0;
  for (let round = 0; round < 2000; round++) {
    const n = int(12);
    const list: RetainedSnapshot[] = Array.from({ length: n }, (_, i) => ({ id: `r${i}`, createdAt: NOW - int(1000), size: 1 + int(500) }));
    const policy: RetentionPolicy = {};
    if (rand() < 0.5) policy.maxSnapshots = int(6);
    if (rand() < 0.5) policy.maxAgeMs = int(1200);
    if (rand() < 0.5) policy.minIntervalMs = int(200);
    if (rand() < 0.5) policy.maxTotalBytes = int(3000);
    const inUse = new Set(list.filter(() => rand() < 0.15).map((s) => s.id));
    const drop = snapshotsToPrune(list, policy, NOW, inUse);
    const dropped = new Set(drop);
    const newest = [...list].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))[0];
    const problems: string[] = [];
    if (dropped.size !== drop.length) problems.push('an id twice');
    if (newest && dropped.has(newest.id)) problems.push('dropped the newest');
    for (const id of inUse) if (dropped.has(id)) problems.push(`dropped ${id}, in use`);
    for (const id of drop) if (!list.some((s) => s.id === id)) problems.push(`dropped unknown ${id}`);
    // Declaratively, walking newest first: a snapshot is dropped exactly when it is not
    // protected and breaks a rule against the snapshots kept before it (newer ones).
    const newestFirst = [...list].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
    const keptBefore: RetainedSnapshot[] = [];
    for (const s of newestFirst) {
      const isProtected = s === newest || inUse.has(s.id);
      const total = keptBefore.reduce((sum, k) => sum + k.size, 0) + s.size;
      const last = keptBefore.at(-1);
      const breaks: string[] = [];
      if (policy.maxSnapshots !== undefined && keptBefore.length >= policy.maxSnapshots) breaks.push('maxSnapshots');
      if (policy.maxAgeMs !== undefined && NOW - s.createdAt > policy.maxAgeMs) breaks.push('maxAgeMs');
      if (policy.minIntervalMs !== undefined && last && last.createdAt - s.createdAt < policy.minIntervalMs) breaks.push('minIntervalMs');
      if (policy.maxTotalBytes !== undefined && total > policy.maxTotalBytes) breaks.push('maxTotalBytes');
      const shouldDrop = !isProtected && breaks.length > 0;
      if (shouldDrop !== dropped.has(s.id)) {
        problems.push(`${s.id} ${dropped.has(s.id) ? 'dropped' : 'kept'} (protected ${isProtected}, breaks ${breaks.join(',') || 'nothing'})`);
      }
      if (!dropped.has(s.id)) keptBefore.push(s);
    }
    if (problems.length > 0) {
      t.fail(`round ${round}: ${problems.join('; ')}`, { list, policy, inUse: [...inUse], drop });
      return;
    }
    checked++;
  }
  t.equal(checked, 2000, 'every round kept the invariants');
});
