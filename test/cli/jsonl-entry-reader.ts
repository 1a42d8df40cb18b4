// The JSON Lines reader: lines split anywhere across chunks (inside a multibyte character too),
// line numbers and byte offsets counted across chunks, blank lines and a last line without a
// newline, and the error a bad line raises through the stream.
import t from 'tap';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { JsonlEntryReader } from '../../lib/cli/jsonl-entries.js';
import type { Entry } from '../../lib/index.js';

async function read(chunks: Buffer[]): Promise<{ entries: Entry[]; reader: JsonlEntryReader }> {
  const reader = new JsonlEntryReader();
  const entries: Entry[] = [];
  await pipeline(Readable.from(chunks), reader, new Writable({ objectMode: true, write: (e: Entry, _enc, cb) => (entries.push(e), cb()) }));
  return { entries, reader };
}

/** The bytes cut into pieces of `size` (1: every byte its own chunk). */
const pieces = (bytes: Buffer, size: number): Buffer[] => Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));

t.test('lines split anywhere across chunks', async (t) => {
  const text = '{"key":"ключ","value":"värde 🎉"}\n\n{"key":{"base64":"AP8="},"value":"b","expiresAt":5}\r\n{"key":"last","value":"no newline"}';
  const bytes = Buffer.from(text, 'utf8');
  for (const size of [1, 2, 3, 7, bytes.length]) {
    const { entries, reader } = await read(pieces(bytes, size));
    t.same(entries, [
      { key: 'ключ', value: 'värde 🎉' },
      { key: Buffer.from([0, 255]), value: 'b', expiresAt: 5 },
      { key: 'last', value: 'no newline' },
    ], `chunks of ${size}`);
    t.equal(reader.lines, 4);
    t.equal(reader.entries, 3);
    t.equal(reader.bytes, bytes.length);
  }
});

t.test('a bad line: its number and the byte where it starts, whatever the chunks', async (t) => {
  const first = '{"key":"é","value":"v"}\n';
  const bytes = Buffer.from(`${first}\n{"key":"k","value":"v"}\n{"key":"k",\n`, 'utf8');
  const offset = Buffer.byteLength(first) + 1 + Buffer.byteLength('{"key":"k","value":"v"}\n');
  for (const size of [1, 5, bytes.length]) {
    await t.rejects(read(pieces(bytes, size)), { code: 'SNAP_ERR_INVALID_ENTRY', offset, message: new RegExp(`^line 4 \\(byte ${offset}\\): not valid JSON`) }, `chunks of ${size}`);
  }
  await t.rejects(read([Buffer.from('{"key":"k","value":"v"}\n{"key":"k","value":"v"')]), { code: 'SNAP_ERR_INVALID_ENTRY', offset: 24, message: /^line 2 \(byte 24\)/ }, 'a cut last line');
});
