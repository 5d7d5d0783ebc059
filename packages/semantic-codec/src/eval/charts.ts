/** The report's charts, built from the results (pure: the writer in plot.ts renders them). */
import type { LineChart, PlotSeries } from './plot.js';
import type { EvalResults, SweepPoint } from './run.js';

const series = (
  label: string,
  points: readonly SweepPoint[],
  key: string,
  extra: Partial<PlotSeries> = {},
  scale = 1,
): PlotSeries => ({
  label,
  points: points.map((p) => [p.x, (p.m[key] ?? Number.NaN) * scale] as const),
  ...extra,
});

const C_M4SC = '#4e79a7';
const C_JPEG = '#e15759';
const C_WEBP = '#59a14f';
const C_GREY = '#9c9c9c';

/** Named charts; absent when the run did not measure what they show. */
export function buildCharts(r: EvalResults): Record<string, LineChart> {
  const out: Record<string, LineChart> = {};
  const rec = r.tasks.reconstruct;
  const snrTicks = (pts: readonly SweepPoint[]) =>
    pts.map((p) => p.x).filter((x) => x % 5 === 0 || pts.length <= 6);
  if (rec) {
    out['snr-image'] = {
      title: 'Image reconstruction vs SNR (k/n = 1/6)',
      subtitle: `${rec.size} held-out photo crops, 32×32; baselines at the largest quality fitting k·log2(1+SNR) bits`,
      xLabel: 'SNR (dB)',
      yLabel: 'PSNR (dB)',
      xTicks: snrTicks(rec.awgn),
      series: [
        series('M4SC, AWGN', rec.awgn, 'psnr', { colour: C_M4SC }),
        series('M4SC, Rayleigh', rec.rayleigh, 'psnr', { colour: C_M4SC, dashed: true }),
        series('JPEG + capacity, AWGN', rec.awgn, 'jpeg.psnr', { colour: C_JPEG }),
        series('JPEG, Rayleigh (genie)', rec.rayleigh, 'jpeg.psnr', { colour: C_JPEG, dashed: true }),
        series('WebP + capacity, AWGN', rec.awgn, 'webp.psnr', { colour: C_WEBP }),
        series('WebP, Rayleigh (genie)', rec.rayleigh, 'webp.psnr', { colour: C_WEBP, dashed: true }),
        series('mid-grey guess', rec.awgn, 'grey.psnr', { colour: C_GREY, markers: false }),
      ],
    };
    out['loss-image'] = {
      title: 'Image reconstruction vs packet loss',
      subtitle: `${r.lossOp.name} packets; JPEG/WebP at the same bytes, a frame lost when any packet is`,
      xLabel: 'packet loss (%)',
      yLabel: 'PSNR (dB)',
      series: [
        series('M4SC', pctX(rec.loss), 'psnr', { colour: C_M4SC }),
        series('JPEG, same bytes', pctX(rec.loss), 'jpeg.psnr', { colour: C_JPEG }),
        series('WebP, same bytes', pctX(rec.loss), 'webp.psnr', { colour: C_WEBP }),
        series('mid-grey guess', pctX(rec.loss), 'grey.psnr', { colour: C_GREY, markers: false }),
        ...(rec.frameLoss ?? []).map((f, i) =>
          series(`M4SC, ${f.size}×${f.size} ${f.frames}, sender's packets`, pctX(f.points), 'psnr', {
            colour: i === 0 ? C_M4SC : '#59a14f',
            dashed: true,
          }),
        ),
      ],
    };
    if (rec.bandwidth.length > 0) {
      const pal = ['#76b7b2', C_M4SC, '#b07aa1', '#f28e2b'];
      const xs = rec.bandwidth[0]!.points.map((p) => p.x);
      const s: PlotSeries[] = [];
      rec.bandwidth.forEach((b, i) => {
        s.push(series(`M4SC, ${b.snrDb} dB`, b.points, 'psnr', { colour: pal[i % pal.length]! }));
      });
      const mid = rec.bandwidth.find((b) => b.snrDb === 10) ?? rec.bandwidth[0]!;
      s.push(
        series(`JPEG + capacity, ${mid.snrDb} dB`, mid.points, 'jpeg.psnr', { colour: C_JPEG, dashed: true }),
      );
      s.push(
        series(`WebP + capacity, ${mid.snrDb} dB`, mid.points, 'webp.psnr', { colour: C_WEBP, dashed: true }),
      );
      out['bandwidth-image'] = {
        title: 'Image reconstruction vs bandwidth ratio (AWGN)',
        subtitle: 'k = complex channel uses (real symbols / 2), n = 32·32·3; rate prefixes of one encoding',
        xLabel: 'bandwidth ratio k/n (log scale)',
        yLabel: 'PSNR (dB)',
        xScale: 'log',
        xTicks: xs,
        xTickLabel: (x) => `1/${Math.round(1 / x)}`,
        series: s,
      };
    }
  }
  const taskSeries = (sweep: 'awgn' | 'rayleigh' | 'loss', dashed = false): PlotSeries[] => {
    const s: PlotSeries[] = [];
    const pts = (p: readonly SweepPoint[]) => (sweep === 'loss' ? pctX(p) : p);
    const t = r.tasks;
    if (t.classify)
      s.push(series('classify accuracy', pts(t.classify[sweep]), 'accuracy', { colour: '#4e79a7', dashed }));
    if (t.caption)
      s.push(series('caption exact match', pts(t.caption[sweep]), 'exact', { colour: '#f28e2b', dashed }));
    if (t.answer)
      s.push(series('answer accuracy', pts(t.answer[sweep]), 'accuracy', { colour: '#b07aa1', dashed }));
    if (t.transmit) {
      s.push(series('text BLEU-1', pts(t.transmit[sweep]), 'bleu1', { colour: '#59a14f', dashed }));
      s.push(
        series('raw UTF-8 text BLEU-1', pts(t.transmit[sweep]), 'raw.bleu1', {
          colour: '#9c755f',
          dashed: true,
        }),
      );
    }
    return s;
  };
  const anyTask = r.tasks.classify ?? r.tasks.caption ?? r.tasks.answer ?? r.tasks.transmit;
  if (anyTask) {
    for (const ch of ['awgn', 'rayleigh'] as const) {
      out[`snr-tasks-${ch}`] = {
        title: `Task quality vs SNR, ${ch === 'awgn' ? 'AWGN' : 'Rayleigh block fading'}`,
        subtitle: 'private streams of P·C symbols per image; text at C symbols per word',
        xLabel: 'SNR (dB)',
        yLabel: 'accuracy / exact match / BLEU-1',
        xTicks: snrTicks(anyTask[ch]),
        yRange: [0, 1],
        series: taskSeries(ch),
      };
    }
    out['loss-tasks'] = {
      title: 'Task quality vs packet loss',
      subtitle: `${r.lossOp.name} packets; raw text lost when its packet is`,
      xLabel: 'packet loss (%)',
      yLabel: 'accuracy / exact match / BLEU-1',
      yRange: [0, 1],
      series: taskSeries('loss'),
    };
  }
  return out;
}

function pctX(points: readonly SweepPoint[]): SweepPoint[] {
  return points.map((p) => ({ x: Math.round(p.x * 1000) / 10, m: p.m }));
}
