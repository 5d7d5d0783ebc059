import { describe, expect, it } from 'vitest';
import { awgn, erasure, erasureMask, rayleigh } from './channels.js';
import { createRng } from './rng.js';

const ones = (n: number) => new Float32Array(n).fill(1);

describe('createRng', () => {
  it('gives the same stream for the same seed and a different one for another seed', () => {
    const a = createRng(7);
    const b = createRng(7);
    const c = createRng(8);
    const sa = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(sa);
    for (const v of sa) expect(v >= 0 && v < 1).toBe(true);
  });

  it('normal() has mean ≈ 0 and variance ≈ 1 (n = 20000, tolerance 0.03)', () => {
    const r = createRng(3);
    let s = 0;
    let s2 = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const v = r.normal();
      s += v;
      s2 += v * v;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.03);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.03);
  });
});

describe('awgn', () => {
  it('adds noise of variance 10^(−snrDb/10) (10 dB → 0.1, n = 20000, ±5 %)', () => {
    const x = ones(20000);
    const y = awgn({ snrDb: 10, seed: 5 }).process(x);
    let s2 = 0;
    for (let i = 0; i < x.length; i++) s2 += (y[i]! - 1) ** 2;
    expect(s2 / x.length).toBeGreaterThan(0.095);
    expect(s2 / x.length).toBeLessThan(0.105);
  });

  it('is deterministic per seed and leaves its input alone', () => {
    const x = ones(16);
    const a = awgn({ snrDb: 0, seed: 9 }).process(x);
    const b = awgn({ snrDb: 0, seed: 9 }).process(x);
    expect(a).toEqual(b);
    expect(x).toEqual(ones(16));
  });

  it('rejects a NaN snrDb with TypeError', () => {
    expect(() => awgn({ snrDb: Number.NaN })).toThrow(TypeError);
  });
});

describe('rayleigh', () => {
  it('shares one fade per block: with no noise, equalised output equals input', () => {
    const x = new Float32Array([0.5, -1, 2, 0.25]);
    const y = rayleigh({ snrDb: 300, blockSize: 2, seed: 1 }).process(x);
    for (let i = 0; i < x.length; i++) expect(y[i]).toBeCloseTo(x[i]!, 5);
  });

  it('has a larger error than AWGN at the same SNR (noise enhancement in fades)', () => {
    const x = ones(20000);
    const err = (y: Float32Array) => y.reduce((s, v) => s + (v - 1) ** 2, 0) / y.length;
    const eA = err(awgn({ snrDb: 10, seed: 2 }).process(x));
    const eR = err(rayleigh({ snrDb: 10, blockSize: 4, seed: 2 }).process(x));
    expect(eR).toBeGreaterThan(2 * eA);
  });

  it('rejects a non-integer blockSize with TypeError', () => {
    expect(() => rayleigh({ snrDb: 10, blockSize: 1.5 })).toThrow(TypeError);
  });

  it('handles an odd length and blockSize 0 (one fade for the call)', () => {
    const x = new Float32Array([1, 2, 3]);
    const y = rayleigh({ snrDb: 300 }).process(x);
    for (let i = 0; i < 3; i++) expect(y[i]).toBeCloseTo(x[i]!, 4);
  });
});

describe('erasure', () => {
  it('drops about lossRate of the packets (p = 0.2, n = 5000, ±0.02), deterministically', () => {
    const pkts = Array.from({ length: 5000 }, (_, i) => new Uint8Array([i & 0xff]));
    const out = erasure({ lossRate: 0.2, seed: 4 }).process(pkts);
    const lost = out.filter((p) => p === undefined).length / pkts.length;
    expect(Math.abs(lost - 0.2)).toBeLessThan(0.02);
    expect(erasure({ lossRate: 0.2, seed: 4 }).process(pkts)).toEqual(out);
    expect(out.every((p, i) => p === undefined || p === pkts[i])).toBe(true);
  });

  it('keeps all at 0 and drops all at 1; rejects 1.5', () => {
    const pkts = [new Uint8Array(1), new Uint8Array(2)];
    expect(erasure({ lossRate: 0 }).process(pkts)).toEqual(pkts);
    expect(erasure({ lossRate: 1 }).process(pkts)).toEqual([undefined, undefined]);
    expect(() => erasure({ lossRate: 1.5 })).toThrow(TypeError);
  });
});

describe('erasureMask', () => {
  it('loses whole runs of packetSymbols at about lossRate', () => {
    const m = erasureMask(40000, { lossRate: 0.3, packetSymbols: 4, seed: 2 });
    for (let i = 0; i < m.length; i += 4) expect(new Set(m.subarray(i, i + 4)).size).toBe(1);
    const lost = m.reduce((s, v) => s + (1 - v), 0) / m.length;
    expect(Math.abs(lost - 0.3)).toBeLessThan(0.02);
  });
});
