/**
 * The Pacer shares the main thread: slices of at most `slice` ms, a whole slice after a turn
 * the application left idle, and while the application keeps the event loop busy no more than
 * `share` of the time. Driven by a fake clock and fake turns of the event loop, so nothing here
 * depends on the machine's speed.
 */
import t from 'tap';
import { BACKGROUND_PACE, Pacer } from '../../lib/snapshot/pacer.js';
import { ErrorCodes } from '../../lib/index.js';

/** Runs `turns` slices: the work advances the clock in 0.05 ms steps until the slice is due, each turn of the application takes `appMs`. */
async function run(pace: { sliceMs?: number; share?: number }, appMs: number, turns: number): Promise<{ work: number; app: number; slices: number[] }> {
  let clock = 0;
  let app = 0;
  const pacer = new Pacer(pace, () => clock, async () => {
    clock += appMs;
    app += appMs;
  });
  let work = 0;
  const slices: number[] = [];
  for (let i = 0; i < turns; i++) {
    let slice = 0;
    while (!pacer.due()) {
      clock += 0.05;
      slice += 0.05;
    }
    work += slice;
    slices.push(slice);
    await pacer.yield();
  }
  return { work, app, slices };
}

t.test('slices end at the slice length, and an idle application gives whole slices', async (t) => {
  const r = await run({ sliceMs: 4 }, 0.01, 50);
  for (const s of r.slices) t.ok(s >= 4 - 1e-9 && s < 4.05 + 1e-9, `a slice of ${s.toFixed(2)} ms`);
  // share below 1, but the application is idle: still whole slices.
  const idle = await run({ sliceMs: 2, share: 0.1 }, 0.01, 50);
  for (const s of idle.slices) t.ok(s >= 2 - 1e-9 && s < 2.05 + 1e-9, `a slice of ${s.toFixed(2)} ms while idle`);
});

t.test('a busy application keeps all but `share` of the main thread', async (t) => {
  for (const [share, appMs] of [
    [0.2, 5],
    [0.1, 5],
    [0.1, 1],
    [0.25, 20],
  ] as const) {
    const r = await run({ sliceMs: 2, share }, appMs, 400);
    const got = r.work / (r.work + r.app);
    // At most one slice per turn of the application: a long turn earns no more than a slice.
    const want = Math.min(share, 2 / (2 + appMs));
    t.ok(got <= share * 1.1 && got >= want * 0.8, `share ${share} with turns of ${appMs} ms: the snapshot took ${(got * 100).toFixed(1)}% (≈ ${(want * 100).toFixed(1)}%)`);
  }
  // share 1: slices only, one after every turn of the application.
  const r = await run({ sliceMs: 2, share: 1 }, 5, 100);
  t.ok(r.slices.every((s) => s >= 2 - 1e-9), 'share 1 works a whole slice after every turn');
});

t.test('bad pace options are typed errors', async (t) => {
  for (const pace of [{ sliceMs: -1 }, { sliceMs: Number.NaN }, { share: 0 }, { share: 1.5 }, { share: Number.NaN }]) {
    t.throws(() => new Pacer(pace), { code: ErrorCodes.INVALID_ARGUMENT }, JSON.stringify(pace));
  }
  t.equal(new Pacer({ sliceMs: Infinity }).due(), false, 'slice Infinity never yields');
});

t.test('the pacer tells a busy application from an idle one, and says when that changes', async (t) => {
  let clock = 0;
  let appMs = 0.01;
  const pacer = new Pacer({ sliceMs: 2, share: 1 }, () => clock, async () => {
    clock += appMs;
  });
  const seen: boolean[] = [];
  pacer.onBusy = (busy) => seen.push(busy);
  t.equal(pacer.busy, false, 'idle until turns say otherwise');
  for (let i = 0; i < 8; i++) await pacer.yield();
  t.equal(pacer.busy, false);
  // A long turn now and then (another thread took the core): still idle.
  for (let i = 0; i < 16; i++) {
    appMs = i % 3 === 0 ? 5 : 0.01;
    await pacer.yield();
  }
  t.equal(pacer.busy, false, 'a long turn in three is not a busy application');
  appMs = 3; // turns of 3 ms: the application is busy (measured with share 1 too)
  for (let i = 0; i < 3; i++) await pacer.yield();
  t.equal(pacer.busy, true, 'busy after a few long turns');
  for (let i = 0; i < 8; i++) await pacer.yield();
  appMs = 0.01;
  for (let i = 0; i < 8; i++) await pacer.yield();
  t.equal(pacer.busy, false, 'idle again');
  t.same(seen, [true, false], 'told once per change');
});

t.test('background pace: a busy application keeps at least 95% of the main thread', async (t) => {
  // Turns of the application from 1 to 8 ms (a writer doing batches on every turn).
  for (const appMs of [1, 2.5, 6, 8]) {
    const r = await run(BACKGROUND_PACE, appMs, 400);
    const got = r.work / (r.work + r.app);
    t.ok(got <= 0.05 * 1.1, `turns of ${appMs} ms: the snapshot took ${(got * 100).toFixed(1)}% of the main thread`);
    t.ok(got >= 0.05 * 0.8, `and still worked (${(got * 100).toFixed(1)}%)`);
  }
});
