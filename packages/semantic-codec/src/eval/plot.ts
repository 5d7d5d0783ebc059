/**
 * A small SVG line-chart writer (axes, grid, ticks, labelled series with markers, a legend) and its PNG
 * rasterisation through sharp (librsvg). No charting dependency: the charts here are simple, and the SVG
 * stays readable and diffable.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadSharp } from './sharp.js';

export interface PlotSeries {
  readonly label: string;
  /** [x, y] points; a non-finite y breaks the line there. */
  readonly points: readonly (readonly [number, number])[];
  readonly dashed?: boolean;
  /** CSS colour; default the palette's next one. */
  readonly colour?: string;
  /** Marker at every point; default true. */
  readonly markers?: boolean;
}

export interface LineChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly PlotSeries[];
  /** Pixels; default 720×420. */
  readonly width?: number;
  readonly height?: number;
  /** 'log' puts x on a log2 axis (for ratios such as k/n); default 'linear'. */
  readonly xScale?: 'linear' | 'log';
  /** Ticks on x; default "nice" ticks of the data range. */
  readonly xTicks?: readonly number[];
  readonly xTickLabel?: (x: number) => string;
  /** y-axis range; default the data range, padded to nice ticks. */
  readonly yRange?: readonly [number, number];
  /** A line of small text under the title. */
  readonly subtitle?: string;
}

/** Tableau 10: distinct for up to 10 series, and readable by most colour-blind viewers. */
export const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
] as const;

const FONT = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** About `count` round ticks (1, 2, 5 × 10^k steps) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (hi === lo) {
    const d = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= d;
    hi += d;
  }
  const raw = (hi - lo) / Math.max(1, count - 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const start = Math.floor(lo / step + 1e-9) * step;
  const end = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let k = 0; start + k * step <= end + step * 1e-6; k++)
    ticks.push(Number((start + k * step).toFixed(10)));
  return ticks;
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1000 || a < 0.01) return v.toExponential(1);
  return String(Number(v.toPrecision(3)));
}

/** The chart as a standalone SVG document. */
export function lineChartSvg(chart: LineChart): string {
  const W = chart.width ?? 720;
  const H = chart.height ?? 420;
  const legendW = 200;
  const m = { left: 64, right: legendW + 16, top: chart.subtitle ? 52 : 38, bottom: 52 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const log = chart.xScale === 'log';
  const tx = (x: number) => (log ? Math.log2(x) : x);

  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of chart.series) {
    for (const [x, y] of s.points) {
      if (Number.isFinite(x) && (!log || x > 0)) xs.push(x);
      if (Number.isFinite(y)) ys.push(y);
    }
  }
  const xTicks = chart.xTicks
    ? [...chart.xTicks]
    : xs.length
      ? niceTicks(Math.min(...xs), Math.max(...xs))
      : [0, 1];
  const xLo = Math.min(...xTicks.map(tx), ...xs.map(tx));
  const xHi = Math.max(...xTicks.map(tx), ...xs.map(tx));
  const yTicks = chart.yRange
    ? niceTicks(chart.yRange[0], chart.yRange[1])
    : niceTicks(ys.length ? Math.min(...ys) : 0, ys.length ? Math.max(...ys) : 1);
  const yLo = chart.yRange ? chart.yRange[0] : Math.min(...yTicks);
  const yHi = chart.yRange ? chart.yRange[1] : Math.max(...yTicks);
  const px = (x: number) => m.left + ((tx(x) - xLo) / (xHi - xLo || 1)) * pw;
  const py = (y: number) => m.top + ph - ((y - yLo) / (yHi - yLo || 1)) * ph;
  const r2 = (v: number) => v.toFixed(2);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="${FONT}">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${W / 2 - legendW / 2}" y="22" font-size="15" font-weight="bold" text-anchor="middle">${escapeXml(chart.title)}</text>`,
  );
  if (chart.subtitle) {
    out.push(
      `<text x="${W / 2 - legendW / 2}" y="40" font-size="11" fill="#555555" text-anchor="middle">${escapeXml(chart.subtitle)}</text>`,
    );
  }
  // Grid and ticks.
  out.push('<g font-size="11" fill="#333333">');
  for (const t of yTicks) {
    if (t < yLo - 1e-9 || t > yHi + 1e-9) continue;
    const y = r2(py(t));
    out.push(
      `<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${m.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(fmt(t))}</text>`,
    );
  }
  for (const t of xTicks) {
    const x = r2(px(t));
    const label = chart.xTickLabel ? chart.xTickLabel(t) : fmt(t);
    out.push(
      `<line x1="${x}" y1="${m.top}" x2="${x}" y2="${m.top + ph}" stroke="#efefef"/>`,
      `<text x="${x}" y="${m.top + ph + 16}" text-anchor="middle">${escapeXml(label)}</text>`,
    );
  }
  out.push('</g>');
  out.push(
    `<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333333"/>`,
    `<text x="${m.left + pw / 2}" y="${H - 12}" font-size="12" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`,
    `<text x="16" y="${m.top + ph / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 16 ${m.top + ph / 2})">${escapeXml(chart.yLabel)}</text>`,
  );
  // Series (clipped to the plot area).
  out.push(
    `<clipPath id="plot"><rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}"/></clipPath>`,
    '<g clip-path="url(#plot)">',
  );
  chart.series.forEach((s, i) => {
    const colour = s.colour ?? PALETTE[i % PALETTE.length]!;
    let d = '';
    let pen = false;
    const marks: string[] = [];
    for (const [x, y] of s.points) {
      if (!Number.isFinite(x) || !Number.isFinite(y) || (log && x <= 0)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${r2(px(x))},${r2(py(y))}`;
      pen = true;
      if (s.markers !== false) marks.push(`<circle cx="${r2(px(x))}" cy="${r2(py(y))}" r="2.8"/>`);
    }
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    if (d) out.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="2"${dash}/>`);
    if (marks.length) out.push(`<g fill="${colour}">${marks.join('')}</g>`);
  });
  out.push('</g>');
  // Legend.
  const lx = W - legendW;
  out.push(`<g font-size="11">`);
  chart.series.forEach((s, i) => {
    const colour = s.colour ?? PALETTE[i % PALETTE.length]!;
    const y = m.top + 8 + i * 18;
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    out.push(
      `<line x1="${lx}" y1="${y}" x2="${lx + 24}" y2="${y}" stroke="${colour}" stroke-width="2"${dash}/>`,
      `<text x="${lx + 30}" y="${y}" dominant-baseline="middle">${escapeXml(s.label)}</text>`,
    );
  });
  out.push('</g>', '</svg>');
  return `${out.join('\n')}\n`;
}

/** Writes `<name>.svg` and `<name>.png` (rasterised at 2×) into `dir`; returns their paths. */
export async function writeChart(
  chart: LineChart,
  dir: string,
  name: string,
): Promise<{ svg: string; png: string }> {
  await mkdir(dir, { recursive: true });
  const svgText = lineChartSvg(chart);
  const svg = join(dir, `${name}.svg`);
  const png = join(dir, `${name}.png`);
  await writeFile(svg, svgText);
  const sharp = await loadSharp();
  await sharp(Buffer.from(svgText), { density: 144 }).png({ compressionLevel: 9 }).toFile(png);
  return { svg, png };
}
