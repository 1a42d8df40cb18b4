/**
 * The throughput chart of docs/BENCHMARKS.md: a horizontal grouped bar chart, snapstream against
 * the stock tool for each measure, as a self-contained SVG string (no dependencies, no fonts or
 * scripts to load, so GitHub shows it as an image).
 */

export interface ChartRow {
  /** What is measured; Markdown backticks are dropped. */
  label: string;
  /** snapstream's throughput, MB/s. */
  ours: number;
  /** The stock tool's throughput on the same data, MB/s. */
  theirs: number;
  /** The ratio aimed at; the ratio label turns red when it is missed. */
  target?: number;
}

const WIDTH = 760;
const LEFT = 16;
const RATIO_COLUMN = 100; // right of the bars: the ratio and its target
const VALUE_ROOM = 72; // after the longest bar: its "1234 MB/s" label
const BAR = 16;
const GROUP = 20 + 2 * BAR + 2 + 16; // label line, two bars, gap between groups
const TOP = 84; // title, subtitle, legend
const OURS = '#2563eb';
const THEIRS = '#9ca3af';

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const px = (n: number): string => String(Math.round(n * 100) / 100);

/** Renders the chart. Bar lengths are proportional to MB/s, on one scale for every row. */
export function throughputChart(rows: ChartRow[], title: string, subtitle = ''): string {
  const height = TOP + rows.length * GROUP + 8;
  const barMax = WIDTH - LEFT - RATIO_COLUMN - VALUE_ROOM;
  const scale = barMax / Math.max(1, ...rows.flatMap((r) => [r.ours, r.theirs]));
  const ratioX = WIDTH - RATIO_COLUMN + 10;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" ` +
      `font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>${escape(title)}</title>`,
    // An opaque background: the chart stays readable on dark pages.
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="24" font-size="16" font-weight="bold" fill="#111827">${escape(title)}</text>`,
    `<text x="${LEFT}" y="44" fill="#4b5563">${escape(subtitle)}</text>`,
    `<rect x="${LEFT}" y="58" width="12" height="12" fill="${OURS}"/>`,
    `<text x="${LEFT + 18}" y="68" fill="#111827">snapstream</text>`,
    `<rect x="${LEFT + 110}" y="58" width="12" height="12" fill="${THEIRS}"/>`,
    `<text x="${LEFT + 128}" y="68" fill="#111827">stock tool</text>`,
    `<text x="${ratioX}" y="68" fill="#111827">ratio</text>`,
  ];
  rows.forEach((row, i) => {
    const y = TOP + i * GROUP;
    const ratio = row.theirs > 0 ? row.ours / row.theirs : 0;
    const missed = row.target !== undefined && ratio < row.target;
    out.push(`<g>`, `<text x="${LEFT}" y="${y + 14}" fill="#111827">${escape(row.label.replace(/`/g, ''))}</text>`);
    for (const [k, value, colour] of [['ours', row.ours, OURS], ['theirs', row.theirs, THEIRS]] as const) {
      const barY = y + 20 + (k === 'ours' ? 0 : BAR + 2);
      const w = value * scale;
      out.push(
        `<rect class="${k}" x="${LEFT}" y="${barY}" width="${px(w)}" height="${BAR}" fill="${colour}"/>`,
        `<text x="${px(LEFT + w + 6)}" y="${barY + 12}" fill="#374151">${Math.round(value)} MB/s</text>`,
      );
    }
    const ratioY = y + 20 + BAR;
    out.push(
      `<text class="ratio${missed ? ' missed' : ''}" x="${ratioX}" y="${ratioY}" font-size="15" font-weight="bold" ` +
        `fill="${missed ? '#b91c1c' : '#111827'}">${ratio.toFixed(2)}×</text>`,
    );
    if (row.target !== undefined) {
      out.push(`<text x="${ratioX}" y="${ratioY + 16}" font-size="11" fill="${missed ? '#b91c1c' : '#6b7280'}">target ≥ ${row.target}×</text>`);
    }
    out.push(`</g>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
