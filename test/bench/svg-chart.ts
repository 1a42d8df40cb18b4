/**
 * The benchmark chart (bench/svg-chart.ts, drawn into docs/ by `npm run bench -- --update-docs`)
 * is well-formed SVG: one root, balanced tags, text escaped, every label present, and bar
 * lengths proportional to MB/s on one scale.
 */
import t from 'tap';
import fs from 'node:fs';
import { throughputChart, type ChartRow } from '../../bench/svg-chart.js';

const rows: ChartRow[] = [
  { label: 'byte path vs `zstd -1 -T1`', ours: 466, theirs: 318, target: 1.5 },
  { label: 'reads <fast> & checks', ours: 1186, theirs: 957, target: 1 },
  { label: 'no target', ours: 250, theirs: 500 },
];

/** Whether every opened tag is closed, innermost first (self-closing tags count as both). */
function balanced(svg: string): boolean {
  const stack: string[] = [];
  for (const [, close, name, selfClose] of svg.matchAll(/<(\/?)([A-Za-z][\w:-]*)(?:\s[^<>]*?)?(\/?)>/g)) {
    if (selfClose) continue;
    if (!close) stack.push(name!);
    else if (stack.pop() !== name) return false;
  }
  return stack.length === 0;
}

t.test('a chart from sample rows is well-formed SVG with every label', async (t) => {
  const svg = throughputChart(rows, 'Throughput on 1 GiB of entries, 2026-11-22', 'median of 3 runs');
  t.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'), 'starts with the svg root');
  t.ok(svg.trimEnd().endsWith('</svg>'), 'ends with it');
  t.ok(balanced(svg), 'tags balance');
  t.notMatch(svg.replace(/<[^<>]*>/g, ''), /[<>]|&(?!(amp|lt|gt|quot);)/, 'text holds no raw <, > or &');
  t.match(svg, 'Throughput on 1 GiB of entries, 2026-11-22');
  t.match(svg, 'median of 3 runs');
  t.match(svg, '>byte path vs zstd -1 -T1<', 'Markdown backticks dropped');
  t.match(svg, '>reads &lt;fast&gt; &amp; checks<', 'label escaped');
  t.match(svg, '>no target<');
  for (const v of [466, 318, 1186, 957, 250, 500]) t.match(svg, `>${v} MB/s<`, `value ${v} labelled`);
  t.match(svg, /class="ratio missed"[^>]*>1\.47×</, 'a missed target is marked');
  t.match(svg, /class="ratio"[^>]*>1\.24×</, 'a target met is not');
  t.match(svg, /class="ratio"[^>]*>0\.50×</, 'a row without a target is not');
  t.equal(svg.match(/target ≥/g)?.length, 2, 'targets shown where given');
});

t.test('bar lengths are proportional to MB/s, on one scale', async (t) => {
  const svg = throughputChart(rows, 'title');
  const widths = (cls: string): number[] =>
    [...svg.matchAll(new RegExp(`<rect class="${cls}" [^>]*width="([\\d.]+)"`, 'g'))].map((m) => Number(m[1]));
  const ours = widths('ours');
  const theirs = widths('theirs');
  t.equal(ours.length, rows.length, 'one snapstream bar per row');
  t.equal(theirs.length, rows.length, 'one stock-tool bar per row');
  const scale = ours[0]! / rows[0]!.ours;
  rows.forEach((r, i) => {
    t.ok(Math.abs(ours[i]! - r.ours * scale) < 0.01, `row ${i}: snapstream bar ${ours[i]} for ${r.ours} MB/s`);
    t.ok(Math.abs(theirs[i]! - r.theirs * scale) < 0.01, `row ${i}: stock-tool bar ${theirs[i]} for ${r.theirs} MB/s`);
  });
  t.ok(Math.max(...ours, ...theirs) <= 760, 'the longest bar fits the chart');
});

t.test('every chart docs/BENCHMARKS.md shows is there and well-formed', async (t) => {
  const docs = new URL('../../docs/', import.meta.url);
  const charts = [...fs.readFileSync(new URL('BENCHMARKS.md', docs), 'utf8').matchAll(/!\[[^\]]*\]\(([^)]+\.svg)\)/g)].map((m) => m[1]!);
  t.ok(charts.length > 0, 'the doc shows a chart');
  for (const chart of charts) {
    const svg = fs.readFileSync(new URL(chart, docs), 'utf8');
    t.ok(svg.startsWith('<svg ') && balanced(svg), `${chart} is well-formed`);
  }
});
