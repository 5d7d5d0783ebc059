import { describe, expect, it } from 'vitest';
import { accuracy, corpusBleu, psnr, sentenceBleu, ssim } from './metrics.js';
import { createRng } from './rng.js';

const img = (w: number, h: number, f: (x: number, y: number, c: number) => number) => {
  const data = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = f(x, y, c);
  return { data, width: w, height: h };
};

describe('psnr', () => {
  it('is 10·log10(1/MSE) for floats and uses peak 255 for bytes', () => {
    const a = new Float32Array([0, 0, 0, 0]);
    const b = new Float32Array([0.1, 0.1, 0.1, 0.1]);
    expect(psnr(a, b)).toBeCloseTo(20, 4);
    expect(psnr(new Uint8Array([0, 0]), new Uint8Array([255, 255]))).toBeCloseTo(0, 6);
    expect(psnr(a, a)).toBe(Number.POSITIVE_INFINITY);
    expect(() => psnr(a, new Float32Array(3))).toThrow(TypeError);
  });
});

describe('ssim', () => {
  const ref = img(32, 32, (x, y, c) => 0.5 + 0.4 * Math.sin(x / 3 + c) * Math.cos(y / 4));

  it('is 1 for identical images and falls with noise', () => {
    expect(ssim(ref, ref)).toBeCloseTo(1, 10);
    const r = createRng(1);
    const noisy = (s: number) => ({ ...ref, data: ref.data.map((v) => v + s * r.normal()) });
    const a = ssim(ref, noisy(0.02));
    const b = ssim(ref, noisy(0.1));
    expect(a).toBeLessThan(1);
    expect(b).toBeLessThan(a);
    expect(ssim(ref, noisy(0.05), { mode: 'luma' })).toBeLessThan(1);
  });

  it('matches the closed form for constant images: (2ab + C1)/(a² + b² + C1)', () => {
    const a = img(16, 16, () => 0.3);
    const b = img(16, 16, () => 0.5);
    const c1 = 0.01 ** 2;
    expect(ssim(a, b)).toBeCloseTo((2 * 0.3 * 0.5 + c1) / (0.09 + 0.25 + c1), 6);
  });

  it('rejects mismatched sizes', () => {
    expect(() =>
      ssim(
        ref,
        img(16, 16, () => 0),
      ),
    ).toThrow(TypeError);
  });
});

describe('accuracy', () => {
  it('counts exact matches', () => {
    expect(accuracy(['a', 'b', 'c', 'd'], ['a', 'x', 'c', 'd'])).toBe(0.75);
    expect(() => accuracy([1], [1, 2])).toThrow(TypeError);
  });
});

describe('bleu', () => {
  const w = (s: string) => s.split(' ');

  it('is 1 for an exact match and 0 with no 4-gram match when unsmoothed', () => {
    const s = w('the cat sat on the mat');
    expect(corpusBleu([[s]], [s]).bleu).toBeCloseTo(1, 10);
    expect(corpusBleu([[s]], [w('the cat sat in a rug')]).bleu).toBe(0);
  });

  it('matches the hand-computed Papineni example (clipping, brevity penalty)', () => {
    // "the the the the the the the" vs "the cat is on the mat": p1 = 2/7 (clipped), BLEU-1.
    const r = corpusBleu([[w('the cat is on the mat')]], [w('the the the the the the the')], { maxOrder: 1 });
    expect(r.precisions[0]).toBeCloseTo(2 / 7, 10);
    expect(r.brevityPenalty).toBe(1);
    // Short hypothesis: c = 3, r = 6 → BP = e^(1 − 2).
    const s = corpusBleu([[w('the cat is on the mat')]], [w('the cat is')], { maxOrder: 1 });
    expect(s.brevityPenalty).toBeCloseTo(Math.exp(-1), 10);
    expect(s.bleu).toBeCloseTo(Math.exp(-1), 10);
  });

  it('sentence BLEU is smoothed (add-one for n ≥ 2) and positive for partial matches', () => {
    const r = sentenceBleu([w('a red circle on the left')], w('a red square'));
    expect(r.bleu).toBeGreaterThan(0);
    // p2 = (1 + 1)/(2 + 1): "a red" matches.
    expect(r.precisions[1]).toBeCloseTo(2 / 3, 10);
    expect(
      sentenceBleu([w('x y')], w('x z'), { smoothing: 'epsilon', maxOrder: 2 }).precisions[1],
    ).toBeCloseTo(0.1, 10);
  });

  it('corpus BLEU pools counts over sentences (not the mean of sentence scores)', () => {
    const refs = [[w('a b c d')], [w('e f g h')]];
    const hyps = [w('a b c d'), w('e f x h')];
    const r = corpusBleu(refs, hyps, { maxOrder: 2 });
    expect(r.precisions[0]).toBeCloseTo(7 / 8, 10);
    expect(r.precisions[1]).toBeCloseTo(4 / 6, 10);
  });
});
