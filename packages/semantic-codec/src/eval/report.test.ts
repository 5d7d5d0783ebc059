/** The report renders training's ablation figures and copes with partial runs. */
import { describe, expect, it } from 'vitest';
import { manifestSchema } from '../manifest.js';
import { createOperatingPoint } from '../operatingPoint.js';
import { makePlan, parseEvalArgs } from './options.js';
import { REPORT_SECTIONS, renderAblation, renderReport } from './report.js';
import type { EvalResults } from './run.js';

// The shape training/ablate writes to training/runs/ablation.json (and export.py into evaluation.ablation).
const ablation = {
  'multi-kan': {
    steps: 600,
    params: 1657574,
    reconstruct: { psnr: 22.5, ssim: 0.61 },
    classify: { accuracy: 0.8 },
    caption: { exact: 0.5, bleu4: 0.7 },
    answer: { accuracy: 0.7 },
    transmit: { bleu1: 0.6, bleu4: 0.3 },
  },
  'multi-mlp': {
    steps: 600,
    params: 1657900,
    reconstruct: { psnr: 22.1, ssim: 0.6 },
    classify: { accuracy: 0.78 },
  },
  'single-classify': { steps: 600, params: 1657574, classify: { accuracy: 0.85 } },
};

describe('renderAblation', () => {
  it('tabulates KAN vs MLP, single- vs multi-task, and every figure', () => {
    const md = renderAblation(ablation);
    expect(md).toContain('**KAN versus MLP projector**');
    expect(md).toMatch(/\| KAN \| 1657574 \| 22\.50 \| 0\.800 \|/);
    expect(md).toMatch(/\| MLP \| 1657900 \| 22\.10 \| 0\.780 \| — \|/);
    expect(md).toContain(
      '| classify | accuracy | 0.850 | multi-kan (reconstruct, classify, caption, answer, transmit) | 0.800 | -0.050 |',
    );
    expect(md).toMatch(/\| MLP − KAN \| {2}\| -0\.40 \| -0\.020 \| — \| — \| — \|/);
    expect(md).toContain('| single-classify | — | 600 | 1657574 |');
    expect(md).not.toContain('seeds; a figure is the mean');
  });

  it('gives the mean ± sd of several seeds, the difference ± its standard error, curves and every seed', () => {
    const run = (psnr: number, sd: number, seeds: Record<string, number>) => ({
      steps: 2000,
      params: 10,
      seeds: Object.keys(seeds).map(Number),
      reconstruct: { psnr, ssim: 0.5 },
      sd: { reconstruct: { psnr: sd, ssim: 0.01 } },
      perSeed: Object.fromEntries(
        Object.entries(seeds).map(([k, v]) => [k, { reconstruct: { psnr: v, ssim: 0.5 } }]),
      ),
      curve: [
        { step: 1000, reconstruct: { psnr: psnr - 1, ssim: 0.4 } },
        { step: 2000, reconstruct: { psnr, ssim: 0.5 } },
      ],
    });
    const md = renderAblation({
      'multi-kan': run(22, 0.3, { 1: 21.7, 2: 22, 3: 22.3 }),
      'multi-mlp': run(22.4, 0.4, { 1: 22, 2: 22.4, 3: 22.8 }),
      'single-reconstruct': run(21, 0.3, { 1: 20.7, 2: 21, 3: 21.3 }),
      'multi-all': run(23, 0.3, { 1: 22.7, 2: 23, 3: 23.3 }),
    });
    expect(md).toContain('trained with 3 seeds');
    expect(md).toContain('**KAN versus MLP projector** (reconstruct trained together)');
    expect(md).toContain('| KAN | 10 | 22.00 ± 0.30 |');
    // se = sqrt(0.3²/3 + 0.4²/3) = 0.289
    expect(md).toContain('| MLP − KAN |  | 0.40 ± 0.29 |');
    expect(md).toContain(
      '| reconstruct | psnr | 21.00 ± 0.30 | multi-kan (reconstruct) | 22.00 ± 0.30 | 1.00 ± 0.24 |',
    );
    expect(md).toContain(
      '| reconstruct | psnr | 21.00 ± 0.30 | multi-all (reconstruct) | 23.00 ± 0.30 | 2.00 ± 0.24 |',
    );
    // The MLP run is the projector ablation, not a multi-task reference.
    expect(md).not.toContain('| multi-mlp (');
    expect(md).toContain('| step | multi-kan | multi-mlp | single-reconstruct | multi-all |');
    expect(md).toContain('| 1000 | 21.00 | 21.40 | 20.00 | 22.00 |');
    expect(md).toContain('| multi-mlp | 3 | 2000 | 10 | 22.80 | 0.500 |');
    // The summary's own keys are not taken for tasks.
    expect(md).not.toMatch(/sd\.|perSeed|curve\./);
  });

  it('says so when the data is malformed', () => {
    expect(renderAblation(null)).toContain('Malformed');
  });
});

/** A minimal manifest for `tasks`, with `extra` keys (evaluation, streams). */
const testManifest = (tasks: string[], extra: Record<string, unknown> = {}) =>
  manifestSchema.parse({
    format: 'm4sc-bundle',
    formatVersion: 1,
    name: 'test',
    version: '0',
    opset: 17,
    tasks,
    modalities: ['image'],
    dims: { D: 4, C: 16, P: 4, imageStride: 4, imageChannels: 3 },
    stages: {},
    ...extra,
  });

describe('renderReport', () => {
  it('renders every section for a run that measured only one task, marking the rest not measured', () => {
    const p = parseEvalArgs(['--quick', '--only', 'classify']);
    if (p.help) throw new Error('help');
    const classify = {
      task: 'classify' as const,
      size: 8,
      symbolsPerSample: 64,
      heldOut: 'x',
      awgn: [{ x: 10, m: { accuracy: 0.5, majority: 0.2 } }],
      rayleigh: [{ x: 10, m: { accuracy: 0.4, majority: 0.2 } }],
      loss: [{ x: 0, m: { accuracy: 0.5, majority: 0.2, bytes: 256, packets: 8 } }],
      bandwidth: [],
    };
    const r: EvalResults = {
      tasks: { classify },
      lossOp: createOperatingPoint({ name: 'q8-full', rateSymbols: 16, bits: 8 }),
      maxPacketBytes: 1100,
      ablationBundles: [],
    };
    const manifest = testManifest(['classify'], { evaluation: { ablation } });
    const md = renderReport(r, {
      bundleDir: 'b',
      manifest,
      manifestSha256: '0'.repeat(64),
      date: 'now',
      machine: 'm',
      args: ' --quick --only classify',
      seconds: 1,
      options: p.options,
      plan: makePlan(p.options),
      charts: {},
      trainingAblation: { source: 'test', data: ablation },
    });
    for (const s of REPORT_SECTIONS) expect(md).toContain(s);
    expect(md).toContain('`npm run eval -- --quick --only classify`');
    expect(md).toContain('**KAN versus MLP projector**');
    expect(md).toMatch(/reconstruct: PSNR ≥ 27 dB.*not measured in this run \| — \|/);
    expect(md).not.toMatch(/NaN|undefined/);
  });

  it('describes the image path it measured: auto (the code for photos) by default, learned or code when asked', () => {
    const render = (args: string[]) => {
      const p = parseEvalArgs(['--quick', '--only', 'reconstruct', ...args]);
      if (p.help) throw new Error('help');
      const manifest = testManifest(['reconstruct'], {
        streams: {
          image: {
            analysis: 'image_encoder',
            synthesis: 'image_decoder',
            code: {
              file: 'c.bin',
              sha256: '0'.repeat(64),
              kind: 'block-klt',
              block: 16,
              coefficients: 256,
              groups: [[0, 256]],
            },
          },
        },
      });
      return renderReport(
        {
          tasks: {},
          lossOp: createOperatingPoint({ name: 'q8-full', rateSymbols: 16, bits: 8 }),
          maxPacketBytes: 1100,
          ablationBundles: [],
        },
        {
          bundleDir: 'b',
          manifest,
          manifestSha256: '0'.repeat(64),
          date: 'now',
          machine: 'm',
          args: '',
          seconds: 1,
          options: p.options,
          plan: makePlan(p.options),
          charts: {},
          trainingAblation: { source: 'none', data: null },
        },
      );
    };
    const auto = render([]);
    expect(auto).toContain("photos through the bundle's public image code");
    expect(auto).toContain('the synthetic scenes through the learned token path');
    expect(auto).toContain('**Images** (the photos)');
    const learned = render(['--image-path', 'learned']);
    expect(learned).toContain('through the learned token path everywhere');
    expect(learned).toContain('**Bandwidth ratio**: one encoding');
    expect(learned).not.toContain('**Images**');
    const code = render(['--image-path', 'code']);
    expect(code).toContain("through the bundle's public image code");
    expect(code).toContain('the first r·16 of every block');
    expect(code).toContain('**Images** (all)');
  });
});
