/** The SVG chart writer produces well-formed, complete SVG, and sharp rasterises it. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { escapeXml, type LineChart, lineChartSvg, niceTicks, writeChart } from './plot.js';
import { loadSharp } from './sharp.js';

/** A strict-enough XML well-formedness check: one root, balanced tags, quoted attributes, escaped text. */
function checkXml(xml: string): string[] {
  const stack: string[] = [];
  const roots: string[] = [];
  const re = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<&]*")*)\s*(\/?)>|([^<]+)/g;
  let pos = 0;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    if (m.index !== pos) throw new Error(`unparsable XML at ${pos}: ${xml.slice(pos, pos + 40)}`);
    pos = re.lastIndex;
    if (m[5] !== undefined) {
      if (/&(?!#\d+;|amp;|lt;|gt;|quot;|apos;)/.test(m[5])) throw new Error(`bare & in text: ${m[5]}`);
      continue;
    }
    const [, close, name, , selfClose] = m;
    if (close) {
      if (stack.pop() !== name) throw new Error(`unbalanced </${name}>`);
    } else {
      if (stack.length === 0) roots.push(name!);
      if (!selfClose) stack.push(name!);
    }
  }
  if (pos !== xml.length) throw new Error(`trailing garbage at ${pos}`);
  if (stack.length) throw new Error(`unclosed <${stack.join('>, <')}>`);
  return roots;
}

const chart: LineChart = {
  title: 'PSNR <vs> SNR & more',
  subtitle: 'a "subtitle"',
  xLabel: 'SNR (dB)',
  yLabel: 'PSNR (dB)',
  series: [
    {
      label: 'M4SC',
      points: [
        [0, 20],
        [10, 25],
        [20, 27],
      ],
    },
    {
      label: 'JPEG & capacity',
      points: [
        [0, Number.NaN],
        [10, 22],
        [20, 33],
      ],
      dashed: true,
    },
    { label: 'empty', points: [] },
  ],
};

describe('lineChartSvg', () => {
  it('writes one well-formed <svg> root with axes, ticks, a legend entry per series, and escaped text', () => {
    const svg = lineChartSvg(chart);
    expect(checkXml(svg)).toEqual(['svg']);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(svg).toContain(escapeXml('PSNR <vs> SNR & more'));
    expect(svg).not.toContain('<vs>');
    for (const s of chart.series) expect(svg).toContain(`>${escapeXml(s.label)}</text>`);
    // Two drawn lines (the empty series draws none); a NaN point breaks the line rather than plotting 0.
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg).toContain('stroke-dasharray');
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('supports a log x axis with custom tick labels', () => {
    const svg = lineChartSvg({
      ...chart,
      xScale: 'log',
      xTicks: [1 / 48, 1 / 6],
      xTickLabel: (x) => `1/${Math.round(1 / x)}`,
      series: [
        {
          label: 'a',
          points: [
            [1 / 48, 10],
            [1 / 24, 12],
            [1 / 6, 20],
          ],
        },
      ],
    });
    expect(checkXml(svg)).toEqual(['svg']);
    expect(svg).toContain('>1/48</text>');
    expect(svg).toContain('>1/6</text>');
  });

  it('chooses round ticks that cover the data', () => {
    expect(niceTicks(0, 20)).toEqual([0, 5, 10, 15, 20]);
    const t = niceTicks(12.3, 27.9);
    expect(t[0]!).toBeLessThanOrEqual(12.3);
    expect(t.at(-1)!).toBeGreaterThanOrEqual(27.9);
    expect(niceTicks(0.5, 0.5).length).toBeGreaterThanOrEqual(2);
  });
});

describe('writeChart', () => {
  it('writes the SVG and a PNG raster of it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'm4sc-plot-'));
    try {
      const f = await writeChart(chart, dir, 'test');
      expect(await readFile(f.svg, 'utf8')).toBe(lineChartSvg(chart));
      const sharp = await loadSharp();
      const meta = await sharp(await readFile(f.png)).metadata();
      expect(meta.format).toBe('png');
      expect(meta.width).toBe(1440); // 720 px at 2×
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
