/**
 * `node bench/dist/worker-start.js` (after `npm run build && tsc -p bench`): how long a
 * Compressor takes from its construction to its first frame when the zstd worker threads have
 * not started yet (the first use in a process) and when they have (every later one). A
 * fresh-process bench pays the first; a long-running process pays it once.
 */
import { once } from 'node:events';
import { createCompressor } from 'snapstream';

const block = Buffer.alloc(1 << 20, 'abcdefghij');

async function firstFrameMs(): Promise<number> {
  const start = performance.now();
  const c = createCompressor({ codec: 'zstd', level: 1 });
  for (let i = 0; i < 3; i++) c.write(block);
  await once(c, 'data');
  const ms = performance.now() - start;
  c.end();
  c.resume();
  await once(c, 'end');
  return ms;
}

const cold = await firstFrameMs();
const warm = await firstFrameMs();
process.stdout.write(`${process.version}: first frame ${cold.toFixed(1)} ms with the workers not started, ${warm.toFixed(1)} ms with them started\n`);
