/**
 * The public image stream's channel code (`streams.image.code`, fitted by `training/image_code.py`): a linear
 * analog code in the manner of SoftCast. The bundle's `analysis` stage turns each b×b block of a frame into
 * its K = C·(b/stride)² block-KLT coefficients, ordered by decreasing training variance λ; this module
 * allocates power between them (the LMMSE optimum for the channel's SNR and the rate prefix), mixes each rank
 * group of coefficients with its own orthogonal matrix (so that a lost packet spreads over the group instead of
 * erasing the block's largest coefficients), lays the slots out on the token grid in the packet format's
 * symbol-major order, and scales the frame to mean power 1 (the scale travels as side information, the
 * packets' `gain`). The receiver inverts it with a per-block LMMSE estimate over the symbols that arrived, and
 * the `synthesis` stage turns the coefficients back into pixels.
 *
 * Slot k of block (bi, bj) is rank c = ⌊k / P⌋ of token t = (s·bi + u)·w + s·bj + v, with P = (b/stride)²
 * tokens per block, s = b/stride, (u, v) = divmod(k mod P, s) and w the token grid's width; its symbol-major
 * index is c·T + t. A rate prefix of r symbols per token therefore keeps the coefficients k < r·P of every
 * block: the code at the lower rate, with its own power allocation.
 */

/** A rank group: coefficients [start, end) mixed together. */
export type CoefficientGroup = readonly [number, number];

export interface LinearImageCodeParams {
  /** Training variance of each coefficient, descending (length K). */
  readonly lam: Float32Array | Float64Array;
  /** Rank groups, contiguous from 0 to K. */
  readonly groups: readonly CoefficientGroup[];
  /** One orthogonal m×m matrix per group, row-major (slot s of the group = Σ_j Q[s·m + j]·x_j). */
  readonly mix: readonly (Float32Array | Float64Array)[];
  /** Block side in pixels (b). */
  readonly block: number;
  /** Pixels per token side (the bundle's imageStride). */
  readonly stride: number;
  /** Symbols per token (the bundle's C). */
  readonly C: number;
}

/** Largest deviation from orthogonality accepted in a mixing matrix (|QᵀQ − I|, per entry). */
const ORTHO_TOLERANCE = 1e-4;

/**
 * LMMSE power allocation (reverse water-filling for MMSE): p_k = max(0, √(λ_k·σ²/μ) − σ²) with Σ p_k = total,
 * μ found by bisection in log space.
 */
export function waterfill(lam: ArrayLike<number>, noiseVar: number, total: number): Float64Array {
  const n = lam.length;
  const p = new Float64Array(n);
  const fill = (mu: number) => {
    let s = 0;
    for (let k = 0; k < n; k++) {
      p[k] = Math.max(0, Math.sqrt((lam[k]! * noiseVar) / mu) - noiseVar);
      s += p[k]!;
    }
    return s;
  };
  let lo = 1e-12;
  let hi = 1e12;
  for (let i = 0; i < 200; i++) {
    const mu = Math.sqrt(lo * hi);
    if (fill(mu) > total) lo = mu;
    else hi = mu;
  }
  fill(Math.sqrt(lo * hi));
  return p;
}

/** Cholesky factorisation in place of an n×n SPD matrix (lower triangle); returns false if not SPD. */
function cholesky(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j]!;
    for (let k = 0; k < j; k++) d -= a[j * n + k]! * a[j * n + k]!;
    if (!(d > 0)) return false;
    const l = Math.sqrt(d);
    a[j * n + j] = l;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= a[i * n + k]! * a[j * n + k]!;
      a[i * n + j] = s / l;
    }
  }
  return true;
}

/** Solves L·Lᵀ·x = b in place (b becomes x), L from `cholesky`. */
function cholSolve(l: Float64Array, n: number, b: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * n + k]! * b[k]!;
    b[i] = s / l[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * b[k]!;
    b[i] = s / l[i * n + i]!;
  }
}

/** One frame on the wire: symbol-major symbols [C·T] of mean power 1 over the rate prefix, and its scale. */
export interface ImageCodeFrame {
  readonly symbols: Float32Array;
  /** The frame's power scale a (symbols = a · slots); the receiver divides by it. */
  readonly gain: number;
}

export class LinearImageCode {
  readonly K: number;
  readonly block: number;
  readonly C: number;
  /** Tokens per block side (block / stride) and per block. */
  readonly side: number;
  readonly perBlock: number;
  readonly #lam: Float64Array;
  readonly #groups: readonly CoefficientGroup[];
  readonly #mix: readonly Float64Array[];
  readonly #gainCache = new Map<string, Float64Array>();

  /** Throws TypeError naming what is wrong with the parameters. */
  constructor(p: LinearImageCodeParams) {
    const { block, stride, C } = p;
    if (!Number.isInteger(block) || !Number.isInteger(stride) || stride < 1 || block % stride !== 0)
      throw new TypeError(`block ${block} is not a multiple of the image stride ${stride}`);
    this.block = block;
    this.C = C;
    this.side = block / stride;
    this.perBlock = this.side * this.side;
    this.K = C * this.perBlock;
    if (p.lam.length !== this.K)
      throw new TypeError(`${p.lam.length} variances for K = C·(block/stride)² = ${this.K} coefficients`);
    this.#lam = Float64Array.from(p.lam);
    for (let k = 0; k < this.K; k++) {
      const l = this.#lam[k]!;
      if (!(l > 0) || !Number.isFinite(l)) throw new TypeError(`variance ${k} is ${l}; must be finite, > 0`);
      if (k > 0 && l > this.#lam[k - 1]! * (1 + 1e-6))
        throw new TypeError(`variances must descend (coefficient ${k})`);
    }
    let at = 0;
    if (p.groups.length === 0 || p.groups.length !== p.mix.length)
      throw new TypeError(`${p.groups.length} groups for ${p.mix.length} mixing matrices`);
    p.groups.forEach(([s, e], g) => {
      if (s !== at || !(e > s)) throw new TypeError(`group ${g} [${s}, ${e}) does not continue from ${at}`);
      at = e;
      const m = e - s;
      const q = p.mix[g]!;
      if (q.length !== m * m)
        throw new TypeError(`mixing matrix ${g} holds ${q.length} values for ${m}×${m}`);
      for (let i = 0; i < m; i++) {
        for (let j = i; j < m; j++) {
          let d = 0;
          for (let r = 0; r < m; r++) d += q[r * m + i]! * q[r * m + j]!;
          if (Math.abs(d - (i === j ? 1 : 0)) > ORTHO_TOLERANCE || !Number.isFinite(d))
            throw new TypeError(`mixing matrix ${g} is not orthogonal (column ${i}·${j} = ${d})`);
        }
      }
    });
    if (at !== this.K) throw new TypeError(`groups end at ${at}, not K = ${this.K}`);
    this.#groups = p.groups.map(([s, e]) => [s, e] as const);
    this.#mix = p.mix.map((q) => Float64Array.from(q));
  }

  /** The code's variances (copy). */
  get variances(): Float64Array {
    return Float64Array.from(this.#lam);
  }

  /**
   * Per-coefficient amplitude gains for a channel of `snrDb` (noise variance 10^(−snr/10) per unit-power
   * symbol) at a rate of `rate` symbols per token: √(p_k/λ_k) for the k < rate·P coefficients sent, 0 beyond.
   */
  gains(snrDb: number, rate: number): Float64Array {
    if (!Number.isFinite(snrDb)) throw new TypeError(`snrDb must be finite, got ${snrDb}`);
    if (!Number.isInteger(rate) || rate < 1 || rate > this.C)
      throw new TypeError(`rate must be an integer in 1..${this.C}, got ${rate}`);
    const key = `${snrDb}|${rate}`;
    let g = this.#gainCache.get(key);
    if (!g) {
      const n = rate * this.perBlock;
      const p = waterfill(this.#lam.subarray(0, n), 10 ** (-snrDb / 10), n);
      g = new Float64Array(this.K);
      for (let k = 0; k < n; k++) g[k] = Math.sqrt(p[k]! / this.#lam[k]!);
      if (this.#gainCache.size > 256) this.#gainCache.clear();
      this.#gainCache.set(key, g);
    }
    return g;
  }

  /** Symbol-major index of slot k of block (bi, bj) on a token grid `w` wide with T tokens. */
  #position(k: number, bi: number, bj: number, w: number, T: number): number {
    const c = Math.floor(k / this.perBlock);
    const j = k - c * this.perBlock;
    const u = Math.floor(j / this.side);
    const v = j - u * this.side;
    return c * T + (this.side * bi + u) * w + this.side * bj + v;
  }

  /**
   * Encodes one frame's coefficients [hb·wb, K] (block row-major, from the analysis stage) for a channel of
   * `snrDb` at `rate` symbols per token. Symbols beyond the rate prefix are 0.
   */
  encode(coefs: Float32Array, hb: number, wb: number, snrDb: number, rate: number): ImageCodeFrame {
    const nb = hb * wb;
    if (coefs.length !== nb * this.K)
      throw new TypeError(`${coefs.length} coefficients for ${hb}×${wb} blocks of ${this.K}`);
    const g = this.gains(snrDb, rate);
    const w = wb * this.side;
    const T = hb * this.side * w;
    const out = new Float32Array(this.C * T);
    const x = new Float64Array(this.K);
    for (let b = 0; b < nb; b++) {
      const bi = Math.floor(b / wb);
      const bj = b - bi * wb;
      for (let k = 0; k < this.K; k++) x[k] = g[k]! * coefs[b * this.K + k]!;
      this.#groups.forEach(([s, e], gi) => {
        const m = e - s;
        const q = this.#mix[gi]!;
        for (let r = 0; r < m; r++) {
          let v = 0;
          for (let j = 0; j < m; j++) v += q[r * m + j]! * x[s + j]!;
          out[this.#position(s + r, bi, bj, w, T)] = v;
        }
      });
    }
    const kept = rate * T;
    let power = 0;
    for (let i = 0; i < kept; i++) power += out[i]! * out[i]!;
    if (!Number.isFinite(power)) throw new TypeError('the frame has non-finite coefficients');
    const gain = power > 0 ? Math.sqrt(kept / power) : 1;
    for (let i = 0; i < kept; i++) out[i] = out[i]! * gain;
    out.fill(0, kept);
    return { symbols: out, gain };
  }

  /**
   * LMMSE estimate of one frame's coefficients [hb·wb, K] from its received symbols (symbol-major, mask 1 =
   * arrived), the frame's `gain`, and the state the sender coded for (`snrDb`, `rate`). The noise variance is
   * the state's, or the received excess power over 1 when that is clearly larger (a fade, a worse channel
   * than announced). Blocks whose symbols all arrived decode in closed form; the others solve one small system per
   * rank group with losses (shared by the blocks that lost the same slots).
   */
  decode(
    symbols: Float32Array,
    mask: Float32Array,
    gain: number,
    hb: number,
    wb: number,
    snrDb: number,
    rate: number,
  ): Float32Array {
    const w = wb * this.side;
    const T = hb * this.side * w;
    const n = this.C * T;
    if (symbols.length !== n || mask.length !== n)
      throw new TypeError(`symbols and mask must hold C·T = ${n} values for ${hb}×${wb} blocks`);
    if (!(gain > 0) || !Number.isFinite(gain))
      throw new TypeError(`gain must be finite and > 0, got ${gain}`);
    // A = Q_kept · diag(d), d_k = g_k·√λ_k: the whitened coefficients w ~ N(0, I) to the slots.
    const g = this.gains(snrDb, rate);
    const d = g.map((gk, k) => gk * Math.sqrt(this.#lam[k]!));
    let pow = 0;
    let cnt = 0;
    for (let i = 0; i < n; i++) {
      if (mask[i] === 1) {
        pow += symbols[i]! * symbols[i]!;
        cnt++;
      }
    }
    const s2 = 10 ** (-snrDb / 10);
    // The sent symbols have mean power 1 over the whole prefix; a subset that arrived scatters around it by
    // about √(2/n). Only an excess beyond three such deviations is read as more noise than the state says.
    const excess = cnt > 0 ? pow / cnt - 1 - 3 * Math.sqrt(2 / cnt) : 0;
    const noise = Math.max(s2, excess) / (gain * gain);
    const nb = hb * wb;
    const out = new Float32Array(nb * this.K);
    const cache = new Map<string, Float64Array>();
    const y = new Float64Array(this.K);
    const keep = new Uint8Array(this.K);
    for (let b = 0; b < nb; b++) {
      const bi = Math.floor(b / wb);
      const bj = b - bi * wb;
      for (let k = 0; k < this.K; k++) {
        const i = this.#position(k, bi, bj, w, T);
        keep[k] = mask[i] === 1 ? 1 : 0;
        y[k] = keep[k] ? symbols[i]! / gain : 0;
      }
      this.#groups.forEach(([s, e], gi) => {
        const m = e - s;
        const q = this.#mix[gi]!;
        const lost: number[] = [];
        for (let r = 0; r < m; r++) if (!keep[s + r]) lost.push(r);
        // Coefficient = √λ_j · ŵ_j; Aᵀy = d ⊙ (Qᵀ y) with lost y = 0.
        const aty = new Float64Array(m);
        for (let j = 0; j < m; j++) {
          const dj = d[s + j]!;
          if (dj === 0) continue;
          let v = 0;
          for (let r = 0; r < m; r++) v += q[r * m + j]! * y[s + r]!;
          aty[j] = dj * v;
        }
        if (lost.length === m) return;
        if (lost.length === 0) {
          // AᵀA = diag(d²): closed form.
          for (let j = 0; j < m; j++) {
            out[b * this.K + s + j] = (Math.sqrt(this.#lam[s + j]!) * aty[j]!) / (d[s + j]! ** 2 + noise);
          }
          return;
        }
        const key = `${gi}:${lost.join(',')}`;
        let l = cache.get(key);
        if (!l) {
          // AᵀA + σ²I = D (I − Q_lostᵀ Q_lost) D + σ² I.
          l = new Float64Array(m * m);
          for (let i = 0; i < m; i++) {
            for (let j = 0; j <= i; j++) {
              let v = i === j ? 1 : 0;
              for (const r of lost) v -= q[r * m + i]! * q[r * m + j]!;
              const a = d[s + i]! * d[s + j]! * v + (i === j ? noise : 0);
              l[i * m + j] = a;
              l[j * m + i] = a;
            }
          }
          if (!cholesky(l, m)) throw new TypeError('the LMMSE system is not positive definite');
          cache.set(key, l);
        }
        cholSolve(l, m, aty);
        for (let j = 0; j < m; j++) out[b * this.K + s + j] = Math.sqrt(this.#lam[s + j]!) * aty[j]!;
      });
    }
    return out;
  }
}

/** Parses `image_code.bin` (little-endian float32: λ[K], then each group's m×m matrix). */
export function parseImageCode(
  bytes: Uint8Array,
  spec: { groups: readonly CoefficientGroup[]; block: number; stride: number; C: number },
): LinearImageCode {
  const K = spec.C * (spec.block / spec.stride) ** 2;
  const sizes = spec.groups.map(([s, e]) => (e - s) * (e - s));
  const want = 4 * (K + sizes.reduce((a, b) => a + b, 0));
  if (bytes.byteLength !== want)
    throw new TypeError(`${bytes.byteLength} bytes; λ[${K}] and the groups' matrices take ${want}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = (at: number, len: number) => {
    const a = new Float64Array(len);
    for (let i = 0; i < len; i++) a[i] = dv.getFloat32(4 * (at + i), true);
    return a;
  };
  const lam = read(0, K);
  let at = K;
  const mix = sizes.map((len) => {
    const q = read(at, len);
    at += len;
    return q;
  });
  return new LinearImageCode({
    lam,
    groups: spec.groups,
    mix,
    block: spec.block,
    stride: spec.stride,
    C: spec.C,
  });
}
