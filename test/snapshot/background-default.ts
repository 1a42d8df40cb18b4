/**
 * Snapshot creation runs in the background by default (writeSnapshot, store.create and the S3
 * store's create share one rule): while the application keeps the event loop busy a twentieth of
 * the main thread and all cores but one for compression; `background: false` is full speed.
 * What the compressor does is checked by driving the entry source's busy signal by hand.
 */
import t from 'tap';
import os from 'node:os';
import { Compressor } from '../../lib/index.js';
import { busyCores, followBusy, pacingOf } from '../../lib/snapshot/background.js';
import { BACKGROUND_PACE, FULL_SPEED_PACE } from '../../lib/snapshot/pacer.js';

t.test('background is the default; false is full speed; explicit pace and concurrency win', async (t) => {
  t.same(pacingOf({}), { pace: BACKGROUND_PACE, concurrency: undefined, follow: true }, 'default: background, the compressor follows');
  t.same(pacingOf({ background: true }), pacingOf({}), 'background: true is the default');
  t.same(pacingOf({ background: false }), { pace: FULL_SPEED_PACE, concurrency: undefined, follow: false }, 'false: full speed');
  t.equal(FULL_SPEED_PACE.share, 1);
  t.ok(BACKGROUND_PACE.share <= 0.05, 'a twentieth at most while busy');
  t.same(pacingOf({ pace: { sliceMs: 1, share: 0.5 } }).pace, { sliceMs: 1, share: 0.5 }, 'pace overrides');
  t.same(pacingOf({ concurrency: 2 }), { pace: BACKGROUND_PACE, concurrency: 2, follow: false }, 'a fixed concurrency is not changed');
});

t.test('the compressor uses all cores but one while the application is busy, all when it is idle', async (t) => {
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  t.equal(busyCores(), Math.max(1, cores - 1));
  const compressor = new Compressor({ blocks: true });
  const full = compressor.concurrency;
  const onBusy = followBusy(compressor);
  onBusy(true);
  t.equal(compressor.concurrency, Math.min(full, Math.max(1, cores - 1)), 'busy: all cores but one');
  t.ok(compressor.concurrency < full || cores === 1, 'fewer than at full speed');
  onBusy(false);
  t.equal(compressor.concurrency, full, 'idle: back to full');
  compressor.destroy();
});
