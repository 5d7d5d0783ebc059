/** The target table judges measured values: thresholds, missing measurements, and trivial "passes". */
import { describe, expect, it } from 'vitest';
import { createOperatingPoint } from '../operatingPoint.js';
import type { EvalResults, SweepPoint, TaskResult } from './run.js';
import { evaluateTargets } from './targets.js';

const pts = (xs: number[], f: (x: number) => Record<string, number>): SweepPoint[] =>
  xs.map((x) => ({ x, m: f(x) }));
const task = (t: TaskResult['task'], awgn: SweepPoint[], loss: SweepPoint[]): TaskResult => ({
  task: t,
  size: 10,
  symbolsPerSample: 1024,
  heldOut: '',
  awgn,
  rayleigh: awgn,
  loss,
  bandwidth: [],
});
const snr = [0, 5, 10, 20];
const lossRates = [0, 0.2];

function results(classifyAt10: number, classifyLoss20: number, majority: number): EvalResults {
  return {
    tasks: {
      reconstruct: task(
        'reconstruct',
        pts(snr, (x) => ({
          psnr: 24 + 0.2 * x,
          k: 512,
          'jpeg.psnr': 13,
          'webp.psnr': x <= 5 ? 13 : 30,
          'grey.psnr': 13,
        })),
        pts(lossRates, (p) => ({ psnr: 28 - 10 * p, 'grey.psnr': 13 })),
      ),
      classify: task(
        'classify',
        pts(snr, () => ({ accuracy: classifyAt10, majority })),
        pts(lossRates, (p) => ({ accuracy: p === 0 ? classifyAt10 : classifyLoss20, majority })),
      ),
    },
    classify64: { rateSymbols: 16, symbols: 64, m: { accuracy: classifyAt10 } },
    lossOp: createOperatingPoint({ name: 'q8-full', rateSymbols: 16, bits: 8 }),
    maxPacketBytes: 1100,
    ablationBundles: [],
  };
}

const row = (rows: ReturnType<typeof evaluateTargets>, start: string) =>
  rows.find((r) => r.target.startsWith(start))!;

describe('evaluateTargets', () => {
  it('passes and fails on the thresholds, and marks what was not measured', () => {
    const rows = evaluateTargets(results(0.92, 0.9, 0.1), 3072);
    // PSNR at 10 dB = 24 + 2 = 26 dB < 27 dB; k/n = 512 / 3072 = 1/6.
    expect(row(rows, 'reconstruct: PSNR ≥ 27 dB')).toMatchObject({ measured: '26.00 dB', pass: false });
    expect(row(rows, 'reconstruct: smooth').pass).toBe(true);
    // 24 dB vs 13 dB at 0 dB (+11), 25 dB vs 13 dB at 5 dB (+12): the worst margin is at 0 dB.
    expect(row(rows, 'reconstruct: beats').pass).toBe(true);
    expect(row(rows, 'reconstruct: beats').measured).toContain('+11.00 dB at 0 dB');
    expect(row(rows, 'classify: Fashion-MNIST').pass).toBe(true);
    expect(row(rows, 'reconstruct: at 20% packet loss').pass).toBe(true); // 2 dB down
    expect(row(rows, 'classify: at 20% packet loss').pass).toBe(true); // 0.90 / 0.92 = 97.8%
    for (const t of ['caption: exact', 'answer (VQA)', 'transmit: BLEU-1', 'speed']) {
      expect(row(rows, t)).toMatchObject({ pass: null, measured: 'not measured in this run' });
    }
  });

  it('fails a loss target when the loss-free result is no better than the most common answer', () => {
    const rows = evaluateTargets(results(0.1, 0.1, 0.1), 3072);
    const r = row(rows, 'classify: at 20% packet loss');
    expect(r.pass).toBe(false);
    expect(r.measured).toContain('most common answer');
  });

  it('fails the loss target under 90% of loss-free', () => {
    expect(row(evaluateTargets(results(0.92, 0.8, 0.1), 3072), 'classify: at 20% packet loss').pass).toBe(
      false,
    );
  });

  it("judges the sender's-frame loss sweep on its own: a loss the 32×32 sweep hides fails it", () => {
    const r = results(0.92, 0.9, 0.1);
    const frames = (drop: number): EvalResults => ({
      ...r,
      tasks: {
        ...r.tasks,
        reconstruct: {
          ...r.tasks.reconstruct!,
          frameLoss: [
            {
              frames: 'scenes',
              path: 'learned',
              size: 64,
              samples: 10,
              points: pts(lossRates, (p) => ({
                psnr: p === 0 ? 26.8 : 26.8 - drop,
                packets: 5,
                bytes: 4900,
              })),
            },
          ],
        },
      },
    });
    const start = 'reconstruct: at 20% packet loss, PSNR within 3 dB of loss-free on 64×64 scenes';
    // Without the sweep there is no row; the 32×32 row passes (2 dB down) in every case.
    expect(evaluateTargets(r, 3072).find((x) => x.target.startsWith(start))).toBeUndefined();
    const bad = evaluateTargets(frames(4.34), 3072);
    expect(row(bad, 'reconstruct: at 20% packet loss').pass).toBe(true);
    expect(row(bad, start)).toMatchObject({
      pass: false,
      measured: '22.46 dB vs 26.80 dB (−4.34 dB; 5 packets/frame)',
    });
    expect(row(evaluateTargets(frames(2.41), 3072), start).pass).toBe(true);
  });
});
