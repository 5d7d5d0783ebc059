/** The classical baseline's capacity and fitting rules, and the crossover / smoothness measures. */
import { describe, expect, it } from 'vitest';
import { createRng } from '../rng.js';
import {
  ClassicalImage,
  capacityBits,
  frameLost,
  GREY,
  largestFitting,
  packetsFor,
  QUALITIES,
  rayleighPowerGain,
  utf8Bytes,
} from './baseline.js';
import { crossover, smoothness } from './targets.js';

describe('capacity', () => {
  it('k complex uses carry k·log2(1 + SNR) bits', () => {
    expect(capacityBits(512, 10)).toBeCloseTo(512 * Math.log2(11), 9);
    expect(capacityBits(512, 0)).toBeCloseTo(512, 9); // log2(1 + 1) = 1 bit per use
    expect(capacityBits(0, 20)).toBe(0);
    expect(capacityBits(100, 10, 0.5)).toBeCloseTo(100 * Math.log2(1 + 5), 9); // a fade |h|² = 0.5
    expect(() => capacityBits(-1, 10)).toThrow(TypeError);
  });

  it('Rayleigh power gains are exponential with mean 1', () => {
    const rng = createRng(7);
    const n = 20000;
    let s = 0;
    for (let i = 0; i < n; i++) s += rayleighPowerGain(rng);
    expect(s / n).toBeGreaterThan(0.97);
    expect(s / n).toBeLessThan(1.03);
  });
});

describe('fitting a file to the budget', () => {
  it('picks the largest quality whose size fits, even when sizes are not monotone', () => {
    const sizes = [100, 120, 118, 150, 149, 200];
    expect(largestFitting(sizes, 99)).toBe(-1); // nothing fits: the cliff
    expect(largestFitting(sizes, 100)).toBe(0); // fits exactly
    expect(largestFitting(sizes, 119)).toBe(2); // q3 (118 B) fits although q2 (120 B) does not
    expect(largestFitting(sizes, 149)).toBe(4);
    expect(largestFitting(sizes, 1e9)).toBe(5);
  });

  it('splits frames into MTU packets and loses a frame when any packet is lost', () => {
    expect(packetsFor(0)).toBe(1);
    expect(packetsFor(1200)).toBe(1);
    expect(packetsFor(1201)).toBe(2);
    const rng = createRng(1);
    expect(frameLost(rng, 3, 0)).toBe(false);
    expect(frameLost(rng, 3, 1)).toBe(true);
    // P(lost) = 1 − (1 − p)^packets
    let lost = 0;
    for (let i = 0; i < 20000; i++) if (frameLost(rng, 2, 0.2)) lost++;
    expect(lost / 20000).toBeCloseTo(1 - 0.8 ** 2, 1);
  });

  it('counts text as UTF-8 bytes', () => {
    expect(utf8Bytes('abc')).toBe(3);
    expect(utf8Bytes('é')).toBe(2);
  });

  it('encodes JPEG/WebP at every quality and decodes the largest that fits; mid-grey when none does', async () => {
    const W = 32;
    const rgb = new Uint8Array(W * W * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 7 + ((i / 96) | 0) * 13) & 255;
    const c = new ClassicalImage(rgb, W, W);
    for (const format of ['jpeg', 'webp'] as const) {
      const sizes = await c.sizes(format);
      expect(sizes).toHaveLength(QUALITIES.length);
      const none = await c.atBudget(format, Math.min(...sizes) - 1);
      expect(none.quality).toBe(0);
      expect(none.psnr).toBeCloseTo(c.grey.psnr, 9);
      const budget = sizes[49]!;
      const got = await c.atBudget(format, budget);
      expect(got.bytes).toBeLessThanOrEqual(budget);
      expect(got.quality).toBe(largestFitting(sizes, budget) + 1);
      expect(got.psnr).toBeGreaterThan(c.grey.psnr);
      const best = await c.atBudget(format, 1e9);
      expect(best.quality).toBe(100);
      expect(best.psnr).toBeGreaterThanOrEqual(got.psnr - 0.5);
    }
    // The grey guess is every value at GREY.
    const ref = Float32Array.from(rgb, (v) => v / 255);
    const mse = ref.reduce((s, v) => s + (v - GREY) ** 2, 0) / ref.length;
    expect(c.grey.psnr).toBeCloseTo(10 * Math.log10(1 / mse), 6);
  });
});

describe('crossover and smoothness', () => {
  it('finds the interpolated SNR above which the baseline stays ahead', () => {
    const xs = [0, 5, 10, 15, 20];
    const m4sc = [20, 22, 24, 25, 26];
    expect(crossover(xs, m4sc, [13, 13, 22, 26, 30])).toBeCloseTo(10 + (2 / 3) * 5, 9);
    expect(crossover(xs, m4sc, [13, 13, 13, 13, 13])).toBeNull();
    expect(crossover(xs, m4sc, [21, 23, 25, 26, 27])).toBe(0);
    // A baseline that crosses, falls back, then crosses again: the last crossing counts.
    expect(crossover(xs, m4sc, [13, 23, 20, 25.5, 30])).toBeCloseTo(10 + (4 / 4.5) * 5, 9);
    // A tie is not a win.
    expect(crossover(xs, m4sc, m4sc)).toBeNull();
  });

  it('measures the steepest step per dB and the largest reversal', () => {
    const s = smoothness([
      { x: 0, y: 10 },
      { x: 2, y: 13 },
      { x: 4, y: 12.5 },
      { x: 6, y: 20 },
    ]);
    expect(s.maxSlope).toBeCloseTo(3.75, 9);
    expect(s.maxReversal).toBeCloseTo(0.5, 9);
  });
});
