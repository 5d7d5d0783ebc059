import { describe, expect, it } from 'vitest';
import { Impairment } from './impairment.js';

const lossOf = (imp: Impairment, n: number) => {
  let lost = 0;
  for (let i = 0; i < n; i++) if (imp.next().drop) lost++;
  return lost / n;
};

describe('Impairment', () => {
  it('drops about lossPct percent, the same way for the same seed', () => {
    const a = new Impairment({ lossPct: 5 }, 42);
    const b = new Impairment({ lossPct: 5 }, 42);
    const fa = Array.from({ length: 1000 }, () => a.next().drop);
    const fb = Array.from({ length: 1000 }, () => b.next().drop);
    expect(fa).toEqual(fb);
    // 20,000 draws: the 99.9% interval of a 5% Bernoulli mean is about ±0.5 points.
    expect(lossOf(new Impairment({ lossPct: 5 }, 1), 20_000)).toBeCloseTo(0.05, 2);
  });

  it('makes bursts with Gilbert-Elliott loss (stationary loss pGB / (pGB + pBG))', () => {
    const imp = new Impairment({ burst: { pGoodToBad: 0.01, pBadToGood: 0.19 } }, 3);
    let runs = 0;
    let lost = 0;
    let prev = false;
    for (let i = 0; i < 50_000; i++) {
      const d = imp.next().drop;
      if (d) lost++;
      if (d && !prev) runs++;
      prev = d;
    }
    expect(lost / 50_000).toBeGreaterThan(0.03);
    expect(lost / 50_000).toBeLessThan(0.07);
    expect(lost / runs).toBeGreaterThan(3); // mean burst length 1 / 0.19 ≈ 5
  });

  it('adds delay and bounded jitter', () => {
    const imp = new Impairment({ delayMs: 20, jitterMs: 5 }, 9);
    for (let i = 0; i < 100; i++) {
      const { delayMs } = imp.next();
      expect(delayMs).toBeGreaterThanOrEqual(15);
      expect(delayMs).toBeLessThanOrEqual(25);
    }
  });

  it('rejects conflicting loss models', () => {
    expect(() => new Impairment({ lossPct: 1, burst: { pGoodToBad: 0.1, pBadToGood: 0.1 } }, 1)).toThrow(
      TypeError,
    );
    expect(() => new Impairment({ lossPct: 101 }, 1)).toThrow(TypeError);
  });
});
