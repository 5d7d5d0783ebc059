import { describe, expect, it } from 'vitest';
import { bSplineBases, kanForward, kanGrid, kanLayerForward } from './kan.js';

describe('B-spline bases (Cox–de Boor)', () => {
  const G = 5;
  const k = 3;
  const grid = kanGrid(G, k, [-1, 1]);

  it('builds G + 2k + 1 uniform knots extended k steps past the range', () => {
    expect(grid.length).toBe(G + 2 * k + 1);
    expect(grid[k]).toBeCloseTo(-1, 12);
    expect(grid[G + k]).toBeCloseTo(1, 12);
    expect(grid[1]! - grid[0]!).toBeCloseTo(0.4, 12);
  });

  it('gives G + k bases forming a partition of unity on the range, all ≥ 0', () => {
    for (let x = -1; x < 1; x += 0.0371) {
      const b = bSplineBases(x, grid, k);
      expect(b.length).toBe(G + k);
      expect(b.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
      for (const v of b) expect(v).toBeGreaterThanOrEqual(0);
    }
  });

  it('has local support: at most k + 1 bases are non-zero', () => {
    for (let x = -0.99; x < 1; x += 0.11)
      expect(bSplineBases(x, grid, k).filter((v) => v > 0).length).toBeLessThanOrEqual(k + 1);
  });

  it('matches the closed-form cubic at a knot: (1/6, 4/6, 1/6)', () => {
    const b = bSplineBases(0.2, grid, k); // 0.2 = knot k + 3
    const nz = Array.from(b).filter((v) => v > 1e-12);
    expect(nz.map((v) => v * 6)).toEqual([
      expect.closeTo(1, 10),
      expect.closeTo(4, 10),
      expect.closeTo(1, 10),
    ]);
  });

  it('is zero outside the extended grid', () => {
    expect(bSplineBases(5, grid, k).every((v) => v === 0)).toBe(true);
  });
});

describe('kanLayerForward', () => {
  it('sums w_base·SiLU(x_i) + Σ w_spline·B(x_i) over inputs', () => {
    const G = 4;
    const k = 2;
    const nb = G + k;
    // 2 inputs → 1 output; all spline weights 1 → the spline branch adds 1 per input (partition of unity).
    const layer = {
      inFeatures: 2,
      outFeatures: 1,
      gridSize: G,
      splineOrder: k,
      range: [-1, 1] as [number, number],
      baseWeight: [2, -1],
      splineWeight: new Float32Array(2 * nb).fill(1),
      bias: [0.5],
    };
    const silu = (x: number) => x / (1 + Math.exp(-x));
    const y = kanLayerForward(layer, [0.3, -0.6, 0.1, 0.9]);
    expect(y[0]).toBeCloseTo(2 * silu(0.3) - silu(-0.6) + 2 + 0.5, 5);
    expect(y[1]).toBeCloseTo(2 * silu(0.1) - silu(0.9) + 2 + 0.5, 5);
    expect(kanForward([layer], [0.3, -0.6])[0]).toBeCloseTo(y[0]!, 6);
  });

  it('rejects mis-shaped weights with TypeError', () => {
    const bad = {
      inFeatures: 2,
      outFeatures: 1,
      gridSize: 4,
      splineOrder: 2,
      range: [-1, 1] as [number, number],
      baseWeight: [1],
      splineWeight: [],
    };
    expect(() => kanLayerForward(bad, [0, 0])).toThrow(TypeError);
  });
});
