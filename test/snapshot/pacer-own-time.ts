/**
 * The time a snapshot's own pipeline spends in a turn of the event loop (frames handed on and
 * written, lib/streams/own-time.ts) is not the application's: turns made long by it alone leave
 * an idle process idle, at full speed on every core, while an application's own long turns still
 * make it busy. Before, the snapshot's deliveries made an idle process look busy, and the
 * snapshot then took a tenth of the main thread on one core. Driven by a fake clock and fake
 * turns, so nothing here depends on the machine's speed; the writeSnapshot test checks the
 * wiring from the Compressor to the pacer.
 */
import t from 'tap';
import { Pacer } from '../../lib/snapshot/pacer.js';
import { writeSnapshot } from '../../lib/index.js';

t.test("turns long with the snapshot's own work only: idle; with the application's: busy", async (t) => {
  let clock = 0;
  let own = 0;
  let appMs = 0.01;
  const ownMs = 1.5;
  const pacer = new Pacer({ sliceMs: 2, share: 0.1 }, () => clock, async () => {
    // Each turn delivers a frame (the snapshot's own 1.5 ms) and runs the application's appMs.
    clock += ownMs + appMs;
    own += ownMs;
  });
  pacer.ownMs = () => own;
  const seen: boolean[] = [];
  pacer.onBusy = (busy) => seen.push(busy);
  for (let i = 0; i < 16; i++) await pacer.yield();
  t.equal(pacer.busy, false, 'idle: the long turns were the snapshot’s own');
  appMs = 3;
  for (let i = 0; i < 8; i++) await pacer.yield();
  t.equal(pacer.busy, true, 'busy: the application takes 3 ms a turn');
  appMs = 0.01;
  for (let i = 0; i < 8; i++) await pacer.yield();
  t.same(seen, [true, false], 'told once per change');

  // The same turns with no account of the snapshot's own time look busy.
  const blind = new Pacer({ sliceMs: 2, share: 0.1 }, () => clock, async () => {
    clock += ownMs + 0.01;
  });
  for (let i = 0; i < 8; i++) await blind.yield();
  t.equal(blind.busy, true, 'without the account: taken for busy');
});

t.test("writeSnapshot gives its pacer the time of the pipeline's deliveries", async (t) => {
  const proto = Pacer.prototype as unknown as { yield(this: Pacer): Promise<void> };
  const original = proto.yield;
  let pacer: Pacer | null = null;
  proto.yield = function (this: Pacer) {
    pacer ??= this;
    return original.call(this);
  };
  const spin = (ms: number): void => {
    const end = performance.now() + ms;
    while (performance.now() < end);
  };
  // A source slow enough to be paced (its slices end), and a slow progress callback: it runs as
  // each frame is handed on, in the pipeline's own time.
  function* entries() {
    for (let i = 0; i < 40_000; i++) {
      if (i % 500 === 0) spin(0.5);
      yield { key: `key-${i}`, value: `value ${i} `.repeat(4) };
    }
  }
  let blocks = 0;
  try {
    const r = await writeSnapshot(entries(), `${t.testdir()}/own.snap`, { blockSize: 64 * 1024, boundaries: 'fixed', onProgress: () => spin(1) });
    blocks = r.blocks;
  } finally {
    proto.yield = original;
  }
  t.ok(pacer, 'the source was paced');
  const own = (pacer as Pacer | null)?.ownMs?.() ?? 0;
  t.ok(blocks > 10 && own >= blocks, `the pipeline's own time, ${own.toFixed(1)} ms, holds each of the ${blocks} deliveries`);
});
