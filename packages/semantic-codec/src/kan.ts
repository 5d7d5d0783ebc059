/**
 * Reference forward pass of a Kolmogorov–Arnold network (Liu et al. 2024, arXiv 2404.19756), in the
 * "efficient-KAN" form the training code exports: for each edge (i → o) a learnable activation
 * φ(x) = w_base·SiLU(x) + Σ_j w_spline_j·B_j(x), summed over inputs:
 *
 *   y_o = Σ_i [ baseWeight[o,i]·SiLU(x_i) + Σ_j splineWeight[o,i,j]·B_j(x_i) ] (+ bias[o])
 *
 * B_j are the G + k B-splines of order k on the uniform grid of G intervals over [lo, hi], extended by k
 * knots each side (knots t_m = lo + (m − k)·h, m = 0..G+2k, h = (hi − lo)/G), evaluated by Cox–de Boor
 * with half-open order-0 intervals [t_m, t_{m+1}). Outside [t_0, t_{G+2k}) all bases are 0.
 * This is for checking exported ONNX graphs and for documentation; the runtime uses the ONNX stages.
 */

/** One KAN layer. `splineWeight` is already multiplied by any per-edge spline scaler. */
export interface KanLayer {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** G, intervals of the grid over `range`. */
  readonly gridSize: number;
  /** k, the spline order (3 = cubic). */
  readonly splineOrder: number;
  readonly range: readonly [number, number];
  /** [out, in], row-major. */
  readonly baseWeight: ArrayLike<number>;
  /** [out, in, G + k], row-major. */
  readonly splineWeight: ArrayLike<number>;
  /** [out], optional. */
  readonly bias?: ArrayLike<number>;
  /**
   * Explicit knots, [in, G + 2k + 1] row-major (as exported, e.g. float32-rounded); default the uniform
   * grid of `kanGrid` shared by all inputs.
   */
  readonly grid?: ArrayLike<number>;
}

/** The extended uniform knot vector: G + 2k + 1 knots. */
export function kanGrid(
  gridSize: number,
  splineOrder: number,
  range: readonly [number, number],
): Float64Array {
  if (!Number.isInteger(gridSize) || gridSize < 1)
    throw new TypeError(`gridSize must be a positive integer, got ${gridSize}`);
  if (!Number.isInteger(splineOrder) || splineOrder < 0) {
    throw new TypeError(`splineOrder must be a non-negative integer, got ${splineOrder}`);
  }
  const [lo, hi] = range;
  if (!(hi > lo)) throw new TypeError(`range must be increasing, got [${lo}, ${hi}]`);
  const h = (hi - lo) / gridSize;
  const knots = new Float64Array(gridSize + 2 * splineOrder + 1);
  for (let m = 0; m < knots.length; m++) knots[m] = lo + (m - splineOrder) * h;
  return knots;
}

/**
 * B-spline bases of order k at x on knots `grid` (Cox–de Boor): returns grid.length − 1 − k values.
 * `out` may be passed to avoid allocation (length ≥ grid.length − 1).
 */
export function bSplineBases(
  x: number,
  grid: ArrayLike<number>,
  k: number,
  out?: Float64Array,
): Float64Array {
  const nk = grid.length;
  const b = out ?? new Float64Array(nk - 1);
  for (let m = 0; m < nk - 1; m++) b[m] = x >= grid[m]! && x < grid[m + 1]! ? 1 : 0;
  for (let p = 1; p <= k; p++) {
    for (let m = 0; m < nk - 1 - p; m++) {
      const left = ((x - grid[m]!) / (grid[m + p]! - grid[m]!)) * b[m]!;
      const right = ((grid[m + p + 1]! - x) / (grid[m + p + 1]! - grid[m + 1]!)) * b[m + 1]!;
      b[m] = left + right;
    }
  }
  return b.subarray(0, nk - 1 - k);
}

const silu = (x: number): number => x / (1 + Math.exp(-x));

/** Applies one layer to `x` [N, in] (row-major) → [N, out]. */
export function kanLayerForward(layer: KanLayer, x: ArrayLike<number>): Float32Array {
  const { inFeatures: nin, outFeatures: nout, gridSize, splineOrder: k } = layer;
  if (x.length % nin !== 0)
    throw new TypeError(`input of ${x.length} values is not a multiple of ${nin} features`);
  const nb = gridSize + k;
  if (layer.baseWeight.length !== nout * nin) throw new TypeError('baseWeight must be [out, in]');
  if (layer.splineWeight.length !== nout * nin * nb)
    throw new TypeError('splineWeight must be [out, in, G + k]');
  if (layer.bias && layer.bias.length !== nout) throw new TypeError('bias must be [out]');
  const uniform = kanGrid(gridSize, k, layer.range);
  const nk = uniform.length;
  if (layer.grid && layer.grid.length !== nin * nk) throw new TypeError(`grid must be [in, ${nk}]`);
  const grids = Array.from({ length: nin }, (_, i) =>
    layer.grid ? Float64Array.from({ length: nk }, (_, m) => layer.grid![i * nk + m]!) : uniform,
  );
  const rows = x.length / nin;
  const y = new Float32Array(rows * nout);
  const scratch = new Float64Array(nk - 1);
  const bases = new Float64Array(nin * nb);
  const act = new Float64Array(nin);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < nin; i++) {
      const xi = x[r * nin + i]!;
      act[i] = silu(xi);
      bases.set(bSplineBases(xi, grids[i]!, k, scratch), i * nb);
    }
    for (let o = 0; o < nout; o++) {
      let s = layer.bias ? layer.bias[o]! : 0;
      for (let i = 0; i < nin; i++) {
        s += layer.baseWeight[o * nin + i]! * act[i]!;
        const w0 = (o * nin + i) * nb;
        for (let j = 0; j < nb; j++) s += layer.splineWeight[w0 + j]! * bases[i * nb + j]!;
      }
      y[r * nout + o] = s;
    }
  }
  return y;
}

/** Applies a stack of layers to `x` [N, in₀] → [N, out_last]. */
export function kanForward(layers: readonly KanLayer[], x: ArrayLike<number>): Float32Array {
  if (layers.length === 0) throw new TypeError('a KAN needs at least one layer');
  let h: ArrayLike<number> = x;
  for (const layer of layers) h = kanLayerForward(layer, h);
  return h as Float32Array;
}
