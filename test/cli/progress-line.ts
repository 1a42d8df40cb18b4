// The progress line itself, drawn into a fake terminal: what it shows with and without a known
// size, that it fits the terminal's width, the summary line, and the JSON form.
import t from 'tap';
import { ByteCounter, ProgressBar } from '../../lib/cli/progress.js';

function terminal(columns = 200): NodeJS.WriteStream & { text: string } {
  const out = { isTTY: true, columns, text: '', write: (s: string) => ((out.text += s), true) };
  return out as unknown as NodeJS.WriteStream & { text: string };
}

/** Draws now (the timer would, ten times a second). */
const draw = (bar: ProgressBar): void => (bar as unknown as { draw(): void }).draw();

t.test('a known size: percentage, bar, bytes of total, rate, entries, time left', async (t) => {
  const stream = terminal();
  const bar = new ProgressBar('pack', { stream, total: 4 * 1024 * 1024 });
  bar.update({ bytes: 1024 * 1024, entries: 1 });
  draw(bar);
  t.match(stream.text, /^\r\x1b\[Kpack\s+25%\s+\[#####---------------\]\s+1\.0 MiB \/ 4\.0 MiB\s+[\d.]+ (B|KiB|MiB|GiB)\/s\s+1 entry\s+[\d.hms ]+ left$/);
  bar.update({ bytes: 4 * 1024 * 1024, entries: 2 });
  bar.done({ bytesOut: 1024 * 1024 });
  t.match(stream.text, /\r\x1b\[Kpack\s+100%\s+\[#{20}\]\s+4\.0 MiB \/ 4\.0 MiB\s+\S+ \S+\/s\s+2 entries\r\x1b\[Kpack: 4\.0 MiB in, 1\.0 MiB out \(4\.00×\), 2 entries, [\d.]+ s, \S+ \S+\/s\n$/);
  t.notMatch(stream.text.split('\r').at(-2), /left/, 'no time left once all is read');
});

t.test('an unknown size: bytes and rate, no percentage; a narrow terminal cuts the line', async (t) => {
  const stream = terminal();
  const counter = new ByteCounter();
  counter.resume();
  counter.write(Buffer.alloc(3000));
  const bar = new ProgressBar('compress', { stream, poll: () => ({ bytes: counter.bytes }) });
  draw(bar);
  t.match(stream.text, /^\r\x1b\[Kcompress\s+2\.9 KiB\s+\S+ \S+\/s$/);
  t.notMatch(stream.text, /%|left|entr/);
  bar.stop();
  t.match(stream.text, /\n$/, 'after a failure the line is ended for the error');
  const narrow = terminal(30);
  const cut = new ProgressBar('pack', { stream: narrow, total: 100 });
  cut.update({ bytes: 50, entries: 1_000_000 });
  draw(cut);
  t.equal(narrow.text.replace('\r\x1b[K', '').length, 29, 'never wraps');
  cut.stop();
});

t.test('quiet, a pipe, and --json', async (t) => {
  const quiet = terminal();
  const q = new ProgressBar('x', { stream: quiet, quiet: true });
  t.equal(q.enabled, false);
  q.done();
  const pipe = { isTTY: false, text: '', write: (s: string) => ((pipe.text += s), true) } as unknown as NodeJS.WriteStream & { text: string };
  new ProgressBar('x', { stream: pipe }).done();
  t.equal(quiet.text + pipe.text, '');
  const json = { isTTY: false, text: '', write: (s: string) => ((json.text += s), true) } as unknown as NodeJS.WriteStream & { text: string };
  const bar = new ProgressBar('send', { stream: json, json: true, total: 10 });
  bar.update({ bytes: 5 });
  draw(bar);
  bar.update({ bytes: 10 });
  bar.done({ bytesOut: 12 });
  const events = json.text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.match(events, [
    { event: 'progress', command: 'send', bytes: 5, total: 10, ms: Number },
    { event: 'done', command: 'send', bytesIn: 10, bytesOut: 12, ms: Number },
  ]);
});
