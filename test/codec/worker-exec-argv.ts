/**
 * The worker threads start under `node --input-type=module -e …` too: workers inherit the
 * process's Node options, and that one (which only describes how the main script was given)
 * made them refuse to start, every compression failing with SNAP_ERR_CODEC. Runs the built
 * package (`npm test` builds first).
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { root } from '../fixtures/built-dist.js';

const run = promisify(execFile);

t.test('compressing from an --input-type=module -e script', async (t) => {
  const index = pathToFileURL(path.join(root, 'dist', 'index.js')).href;
  const script = `
    import { createCompressor, createDecompressor } from ${JSON.stringify(index)};
    import { pipeline } from 'node:stream/promises';
    import { Readable } from 'node:stream';
    const input = Buffer.from('snapshot '.repeat(300000));
    const out = [];
    await pipeline(Readable.from([input]), createCompressor({ codec: 'zstd' }), createDecompressor(), async function* (s) { for await (const c of s) out.push(c); });
    console.log(Buffer.concat(out).equals(input) ? 'round trip ok' : 'mismatch');
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: root, timeout: 60_000 });
  t.equal(stdout.trim(), 'round trip ok');
});
