/**
 * While the application keeps the event loop busy, the snapshot's share of the main thread holds
 * what it really used: a slice that ran past its deadline (the clock is read only every 64
 * entries, so big or slow entries overrun a short slice by a lot) and the pipeline's own work in
 * the turns between slices (frames handed on and written) are paid back before it works again.
 * Before, both came on top of the share: a background snapshot took about twice its twentieth
 * beside a busy writer. Driven by a fake clock and fake turns, so nothing here depends on the
 * machine's speed.
 */
import t from 'tap';
import { BACKGROUND_PACE, Pacer } from '../../lib/snapshot/pacer.js';

/**
 * Runs until `turns` turns of the application have passed: the snapshot works in steps of
 * `stepMs` between two looks at the clock, each turn of the application takes `appMs` and its
 * turns hold `ownMs` of the snapshot's pipeline's own work.
 */
async function run(stepMs: number, appMs: number, ownMs: number, turns: number): Promise<{ snapshot: number; app: number; slices: number }> {
  let clock = 0;
  let app = 0;
  let own = 0;
  let done = 0;
  const pacer = new Pacer(BACKGROUND_PACE, () => clock, async () => {
    clock += appMs + ownMs;
    app += appMs;
    own += ownMs;
    done++;
  });
  pacer.ownMs = () => own;
  let work = 0;
  let slices = 0;
  while (done < turns) {
    do {
      clock += stepMs;
      work += stepMs;
    } while (!pacer.due());
    slices++;
    await pacer.yield();
  }
  return { snapshot: work + own, app, slices };
}

t.test('a slice that overruns its deadline is paid back', async (t) => {
  // Steps of 1 ms between looks at the clock (64 entries of 16 µs): a slice allowed 0.5 ms
  // took 1 ms, twice its allowance, on turns of 6 ms of a busy writer.
  for (const stepMs of [0.05, 1, 1.5]) {
    const r = await run(stepMs, 6, 0, 2000);
    const got = r.snapshot / (r.snapshot + r.app);
    t.ok(got <= BACKGROUND_PACE.share * 1.1 && got >= BACKGROUND_PACE.share * 0.8, `steps of ${stepMs} ms: the snapshot took ${(got * 100).toFixed(2)}% of the main thread`);
  }
});

t.test("the pipeline's own work between slices counts against the share", async (t) => {
  // Each turn also hands a frame on: 0.2 ms of the snapshot's own, beside 6 ms of the writer's.
  const r = await run(0.05, 6, 0.2, 2000);
  const got = r.snapshot / (r.snapshot + r.app);
  t.ok(got <= BACKGROUND_PACE.share * 1.1, `the snapshot took ${(got * 100).toFixed(2)}% of the main thread, its own deliveries included`);
  t.ok(r.slices > 0, 'and still worked');
});

t.test('fewer, longer slices: a whole slice earned before working', async (t) => {
  const r = await run(0.05, 2, 0, 2000);
  // 2 ms turns earn about 0.105 ms each: a 2 ms slice every 19 turns or so, not a 0.5 ms one every 5.
  t.ok(r.slices <= 2000 / 15, `${r.slices} slices over 2000 turns of the application`);
});
