import { describe, expect, it } from 'vitest';
import { LinearImageCode, parseImageCode, waterfill } from './imageCode.js';
import { createRng } from './rng.js';

/** A random orthogonal m×m matrix (Gram–Schmidt of Gaussian columns), row-major. */
function orthogonal(m: number, seed: number): Float64Array {
  const r = createRng(seed);
  const cols: Float64Array[] = [];
  for (let j = 0; j < m; j++) {
    const v = Float64Array.from({ length: m }, () => r.normal());
    for (const u of cols) {
      let d = 0;
      for (let i = 0; i < m; i++) d += u[i]! * v[i]!;
      for (let i = 0; i < m; i++) v[i] = v[i]! - d * u[i]!;
    }
    const n = Math.hypot(...v);
    cols.push(v.map((x) => x / n));
  }
  const q = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) q[i * m + j] = cols[j]![i]!;
  return q;
}

// Blocks of 8 pixels at stride 4: 4 tokens a block, C = 4 symbols a token, K = 16 coefficients.
const K = 16;
const lam = Float64Array.from({ length: K }, (_, k) => 1 / (k + 1) ** 1.5);
const groups = [
  [0, 8],
  [8, 16],
] as const;
const code = new LinearImageCode({
  lam,
  groups,
  mix: [orthogonal(8, 1), orthogonal(8, 2)],
  block: 8,
  stride: 4,
  C: 4,
});

function frame(hb: number, wb: number, seed: number): Float32Array {
  const r = createRng(seed);
  return Float32Array.from({ length: hb * wb * K }, (_, i) => Math.sqrt(lam[i % K]!) * r.normal());
}
const mse = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0) / a.length;

describe('waterfill', () => {
  it('spends exactly the total, more on larger variances, none on the smallest at low SNR', () => {
    const p = waterfill(lam, 1, K);
    expect(p.reduce((s, v) => s + v, 0)).toBeCloseTo(K, 6);
    for (let k = 1; k < K; k++) expect(p[k]!).toBeLessThanOrEqual(p[k - 1]! + 1e-12);
    expect(waterfill(lam, 10, 2).at(-1)).toBe(0);
  });
});

describe('LinearImageCode', () => {
  it('codes a frame to mean power 1 over its rate prefix, zero beyond, and lays slots out symbol-major', () => {
    const f = frame(2, 3, 5);
    for (const rate of [4, 2, 1]) {
      const { symbols, gain } = code.encode(f, 2, 3, 10, rate);
      const T = 2 * 2 * 3 * 2;
      expect(symbols.length).toBe(4 * T);
      const kept = symbols.subarray(0, rate * T);
      expect(kept.reduce((s, v) => s + v * v, 0) / kept.length).toBeCloseTo(1, 5);
      expect(symbols.subarray(rate * T).every((v) => v === 0)).toBe(true);
      expect(gain).toBeGreaterThan(0);
    }
  });

  it('decodes a clean channel nearly exactly, and a noisier one worse but smoothly', () => {
    const f = frame(2, 2, 7);
    const errs = [40, 20, 10, 0].map((snr) => {
      const { symbols, gain } = code.encode(f, 2, 2, snr, 4);
      const r = createRng(snr + 1);
      const std = Math.sqrt(10 ** (-snr / 10));
      const y = symbols.map((v) => v + std * r.normal());
      return mse(code.decode(y, new Float32Array(y.length).fill(1), gain, 2, 2, snr, 4), f);
    });
    const energy = f.reduce((s, v) => s + v * v, 0) / f.length;
    expect(errs[0]! / energy).toBeLessThan(1e-3);
    for (let i = 1; i < errs.length; i++) expect(errs[i]!).toBeGreaterThan(errs[i - 1]!);
    expect(errs[3]! / energy).toBeLessThan(1);
  });

  it('estimates lost symbols from the rest of their group better than setting them to 0', () => {
    const f = frame(4, 4, 9);
    const { symbols, gain } = code.encode(f, 4, 4, 30, 4);
    const r = createRng(3);
    const mask = Float32Array.from(symbols, () => (r.next() < 0.2 ? 0 : 1));
    const lmmse = mse(code.decode(symbols, mask, gain, 4, 4, 30, 4), f);
    // Zero-filling: the clean decode of the symbols with the lost ones set to 0.
    const zeroed = symbols.map((v, i) => v * mask[i]!);
    const zero = mse(code.decode(zeroed, new Float32Array(mask.length).fill(1), gain, 4, 4, 30, 4), f);
    expect(lmmse).toBeLessThan(0.8 * zero);
    // Nothing received at all: every coefficient at its mean (0).
    const none = code.decode(symbols, new Float32Array(mask.length), gain, 4, 4, 30, 4);
    expect(none.every((v) => v === 0)).toBe(true);
  });

  it('refuses parameters that do not make a code, naming what is wrong', () => {
    const base = { lam, groups, mix: [orthogonal(8, 1), orthogonal(8, 2)], block: 8, stride: 4, C: 4 };
    expect(() => new LinearImageCode({ ...base, lam: lam.subarray(1) })).toThrow(/15 variances/);
    expect(() => new LinearImageCode({ ...base, lam: lam.slice().reverse() })).toThrow(/descend/);
    const skew = orthogonal(8, 1);
    skew[0] = skew[0]! + 0.1;
    expect(() => new LinearImageCode({ ...base, mix: [skew, orthogonal(8, 2)] })).toThrow(/not orthogonal/);
    expect(
      () =>
        new LinearImageCode({
          ...base,
          groups: [
            [0, 8],
            [9, 16],
          ],
        }),
    ).toThrow(/does not continue/);
    expect(() => new LinearImageCode({ ...base, block: 6 })).toThrow(/multiple/);
    expect(() => code.gains(10, 5)).toThrow(/rate/);
    expect(() => code.decode(new Float32Array(64), new Float32Array(64), 0, 2, 2, 10, 4)).toThrow(/gain/);
  });

  it('parses its file format and refuses a file of the wrong size', () => {
    const q = [orthogonal(8, 1), orthogonal(8, 2)];
    const bytes = new Uint8Array(4 * (K + 128));
    const dv = new DataView(bytes.buffer);
    [...lam, ...q[0]!, ...q[1]!].forEach((v, i) => {
      dv.setFloat32(4 * i, v, true);
    });
    const parsed = parseImageCode(bytes, { groups, block: 8, stride: 4, C: 4 });
    expect(parsed.K).toBe(K);
    expect(() => parseImageCode(bytes.subarray(4), { groups, block: 8, stride: 4, C: 4 })).toThrow(/bytes/);
  });
});
