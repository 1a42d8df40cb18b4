/**
 * `unpack` and `decode` write JSON Lines one string per batch of entries, not one chunk per
 * entry: standard output made one write per chunk, and 22 M entries took over 300 s.
 */
import t from 'tap';
import { entriesToJsonLines } from '../../lib/cli/jsonl-entries.js';

function run(items: unknown[]): Promise<string[]> {
  const stage = entriesToJsonLines();
  const chunks: string[] = [];
  stage.on('data', (c: Buffer) => chunks.push(c.toString()));
  return new Promise((resolve, reject) => {
    stage.on('end', () => resolve(chunks));
    stage.on('error', reject);
    for (const i of items) stage.write(i);
    stage.end();
  });
}

t.test('a batch becomes one chunk of lines, each ending in a newline', async (t) => {
  const batch = [
    { key: 'a', value: 'x' },
    { key: Buffer.from([0xff, 0]), value: '', expiresAt: 1_700_000_000_000 },
    { key: 'c', value: Buffer.from('text') },
  ];
  const chunks = await run([batch]);
  t.equal(chunks.length, 1);
  t.equal(
    chunks[0],
    '{"key":"a","value":"x"}\n{"key":{"base64":"/wA="},"value":"","expiresAt":1700000000000}\n{"key":"c","value":{"base64":"dGV4dA=="}}\n',
  );
});

t.test('single entries one line each; nothing at all for no entries', async (t) => {
  t.same(await run([{ key: 'k', value: 'v' }]), ['{"key":"k","value":"v"}\n']);
  t.same(await run([]), []);
});
