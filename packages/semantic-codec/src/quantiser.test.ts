import { describe, expect, it } from 'vitest';
import { UnsupportedError } from './errors.js';
import { dequantise, packedBytes, quantise } from './quantiser.js';
import { createRng } from './rng.js';

const gauss = (n: number, seed = 1) => {
  const r = createRng(seed);
  return Float32Array.from({ length: n }, () => r.normal());
};

describe('quantise/dequantise', () => {
  it('8-bit error is at most half a step (scale/2)', () => {
    const x = gauss(1000);
    const q = quantise(x, 8);
    expect(q.codes.length).toBe(1000);
    const y = dequantise(q);
    for (let i = 0; i < x.length; i++)
      expect(Math.abs(y[i]! - x[i]!)).toBeLessThanOrEqual(q.scale / 2 + 1e-6);
  });

  it('4-bit packs two codes per byte, low nibble first', () => {
    const x = new Float32Array([7, -7, 0, 1, 2]);
    const q = quantise(x, 4);
    expect(q.scale).toBe(1);
    expect(q.codes.length).toBe(3);
    // codes + 7: 14, 0, 7, 8, 9
    expect(Array.from(q.codes)).toEqual([14 | (0 << 4), 7 | (8 << 4), 9]);
    expect(Array.from(dequantise(q))).toEqual([7, -7, 0, 1, 2]);
  });

  it('SQNR grows about 6 dB per bit (2..8 bits, Gaussian input)', () => {
    const x = gauss(4000, 2);
    const p = x.reduce((s, v) => s + v * v, 0);
    const sqnr = [2, 4, 6, 8].map((b) => {
      const y = dequantise(quantise(x, b));
      const e = x.reduce((s, v, i) => s + (v - y[i]!) ** 2, 0);
      return 10 * Math.log10(p / e);
    });
    for (let i = 1; i < sqnr.length; i++) expect(sqnr[i]! - sqnr[i - 1]!).toBeGreaterThan(9);
  });

  it('handles all-zero input, 1-bit sign and 32-bit float passthrough', () => {
    expect(Array.from(dequantise(quantise(new Float32Array(3), 8)))).toEqual([0, 0, 0]);
    const s = dequantise(quantise(new Float32Array([1, -3, 2]), 1));
    expect(Array.from(s)).toEqual([2, -2, 2]);
    const f = new Float32Array([1.5, -2.25, 3e-7]);
    expect(dequantise(quantise(f, 32))).toEqual(f);
  });

  it('clipRms limits the scale', () => {
    const x = gauss(1000, 3);
    x[0] = 100;
    expect(quantise(x, 8, { clipRms: 3 }).scale).toBeLessThan(quantise(x, 8).scale / 5);
  });

  it('rejects NaN and Infinity with a TypeError naming the index', () => {
    expect(() => quantise(new Float32Array([0, Number.NaN]), 8)).toThrow(/symbol 1/);
    expect(() => quantise(new Float32Array([Number.POSITIVE_INFINITY]), 4)).toThrow(TypeError);
  });

  it('rejects unsupported widths and short code buffers', () => {
    expect(() => quantise(new Float32Array(1), 24)).toThrow(UnsupportedError);
    expect(() => quantise(new Float32Array(1), 2.5)).toThrow(TypeError);
    expect(() => dequantise({ bits: 8, scale: 1, count: 4, codes: new Uint8Array(3) })).toThrow(TypeError);
    expect(packedBytes(5, 4)).toBe(3);
  });
});
