/**
 * Stages that push asynchronously (Compressor, Decompressor) hold a write back while their
 * readable side is full, and let it go when the consumer reads. Node calls `_read` before it
 * takes what is read off the buffer, and then not again until something is pushed: a write
 * that produces nothing must not be held on that stale level, or a consumer reading with
 * `for await` (paused mode, `read()`) waits forever. Small writes, consumed that way, finish.
 */
import t from 'tap';
import { Readable, type Duplex } from 'node:stream';
import { Compressor, CrcFooter, Decompressor, type CodecName } from '../../lib/index.js';

function* pieces(data: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

/** Reads `stage` with for-await, failing (not hanging) if it stalls for `ms`. */
async function readAll(input: Iterable<Buffer>, stage: Duplex, ms = 10_000): Promise<Buffer> {
  const out: Buffer[] = [];
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      stage.destroy();
      reject(new Error(`stalled after ${Buffer.concat(out).length} bytes`));
    }, ms);
  });
  const read = (async () => {
    for await (const b of Readable.from(input).pipe(stage)) out.push(b as Buffer);
  })();
  try {
    await Promise.race([read, stalled]);
  } finally {
    clearTimeout(timer);
  }
  return Buffer.concat(out);
}

const data = Buffer.alloc(3 * 1024 * 1024 + 5);
for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 10)) & 0xff;

// The zstd workers start before any stall is timed: under tap's TypeScript loader each compiles
// its sources, seconds on a busy machine (≈ 8 of the first case's 10 s here, on every Node).
t.before(async () => {
  await readAll([data], new Compressor({ codec: 'zstd', blockSize: 64 * 1024 }), 120_000);
});

for (const codec of ['none', 'zstd', 'lz4'] as CodecName[]) {
  t.test(`Compressor (${codec}) fed 1000-byte writes, read with for await`, async (t) => {
    const frames = await readAll(pieces(data, 1000), new Compressor({ codec, blockSize: 64 * 1024 }));
    t.ok(frames.length > 0, `${frames.length} bytes of frames`);
    const back = await readAll([frames], new Decompressor());
    t.ok(back.equals(data), 'and they decompress to the input');
  });
}

t.test('Decompressor fed small writes, read with for await', async (t) => {
  const frames = await readAll([data], new Compressor({ codec: 'zstd', blockSize: 64 * 1024 }));
  const withTrailer = await readAll([frames], new CrcFooter());
  t.ok(withTrailer.length < 200_000, `${withTrailer.length} bytes of frames and trailer`);
  for (const size of [7, 4093]) {
    const back = await readAll(pieces(withTrailer, size), new Decompressor(), 20_000);
    t.ok(back.equals(data), `all of it, in ${size}-byte writes`);
  }
});
