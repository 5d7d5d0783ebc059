/**
 * Quality metrics: PSNR, SSIM, accuracy, BLEU. Pure functions.
 *
 * Images are interleaved (HWC) arrays, as the codec takes and returns them; `channels` defaults to 3.
 * The peak value is 1 for float arrays and 255 for Uint8Array unless `peak` is given.
 */
import { BLEU_MAX_ORDER, SSIM_K1, SSIM_K2, SSIM_SIGMA_PX, SSIM_WINDOW_PX } from './defaults.js';

/** An interleaved image (HWC). */
export interface ImageLike {
  readonly data: Float32Array | Uint8Array | Uint8ClampedArray | ArrayLike<number>;
  readonly width: number;
  readonly height: number;
  /** Channels per pixel; default 3. */
  readonly channels?: number;
}

function peakOf(data: ImageLike['data'], peak?: number): number {
  if (peak !== undefined) {
    if (!(peak > 0)) throw new TypeError(`peak must be positive, got ${peak}`);
    return peak;
  }
  return data instanceof Uint8Array || data instanceof Uint8ClampedArray ? 255 : 1;
}

/** Mean squared error of two equal-length arrays. */
export function mse(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new TypeError(`length mismatch: ${a.length} vs ${b.length}`);
  if (a.length === 0) throw new TypeError('empty input');
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    s += d * d;
  }
  return s / a.length;
}

/** PSNR in dB = 10·log10(peak² / MSE) over all values; +Infinity for identical inputs. */
export function psnr(
  reference: ArrayLike<number>,
  test: ArrayLike<number>,
  options: { peak?: number } = {},
): number {
  const peak = peakOf(reference as ImageLike['data'], options.peak);
  const m = mse(reference, test);
  return m === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((peak * peak) / m);
}

export interface SsimOptions {
  /** Peak value (dynamic range L); default 1 for floats, 255 for bytes. */
  peak?: number;
  /**
   * 'channels' (default): mean of per-channel SSIM, as training/metrics/image.py computes it;
   * 'luma': SSIM of BT.601 luma (Y = .299R + .587G + .114B), Wang et al.'s usage for colour images.
   */
  mode?: 'luma' | 'channels';
}

function checkImage(name: string, img: ImageLike): number {
  const ch = img.channels ?? 3;
  if (!Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width < 1 || img.height < 1) {
    throw new TypeError(`${name}: width and height must be positive integers`);
  }
  if (img.data.length !== img.width * img.height * ch) {
    throw new TypeError(`${name}: ${img.data.length} values, expected ${img.width}×${img.height}×${ch}`);
  }
  return ch;
}

/**
 * Mean SSIM (Wang, Bovik, Sheikh, Simoncelli 2004): Gaussian window 11×11, σ = 1.5, K1 = 0.01,
 * K2 = 0.03, over the 'valid' region (windows wholly inside the image). Images smaller than 11 px use a
 * window of the largest odd size that fits, σ scaled by the same ratio.
 */
export function ssim(reference: ImageLike, test: ImageLike, options: SsimOptions = {}): number {
  const ch = checkImage('reference', reference);
  const ch2 = checkImage('test', test);
  if (ch !== ch2 || reference.width !== test.width || reference.height !== test.height) {
    throw new TypeError('reference and test differ in size or channels');
  }
  const peak = peakOf(reference.data, options.peak);
  const mode = options.mode ?? 'channels';
  const { width: W, height: H } = reference;
  const planes: [Float64Array, Float64Array][] = [];
  if (mode === 'luma' && ch === 3) {
    planes.push([luma(reference.data, W * H), luma(test.data, W * H)]);
  } else {
    for (let c = 0; c < ch; c++)
      planes.push([plane(reference.data, W * H, ch, c), plane(test.data, W * H, ch, c)]);
  }
  let total = 0;
  for (const [a, b] of planes) total += ssimPlane(a, b, W, H, peak);
  return total / planes.length;
}

function luma(d: ImageLike['data'], n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = 0.299 * d[3 * i]! + 0.587 * d[3 * i + 1]! + 0.114 * d[3 * i + 2]!;
  return out;
}

function plane(d: ImageLike['data'], n: number, ch: number, c: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = d[ch * i + c]!;
  return out;
}

function gaussian(size: number, sigma: number): Float64Array {
  const g = new Float64Array(size);
  const mid = (size - 1) / 2;
  let s = 0;
  for (let i = 0; i < size; i++) {
    g[i] = Math.exp(-((i - mid) ** 2) / (2 * sigma * sigma));
    s += g[i]!;
  }
  for (let i = 0; i < size; i++) g[i]! /= s;
  return g;
}

/** Separable 'valid' filtering of x by g (size k): output (H−k+1)×(W−k+1). */
function filterValid(x: Float64Array, W: number, H: number, g: Float64Array): Float64Array {
  const k = g.length;
  const ow = W - k + 1;
  const oh = H - k + 1;
  const tmp = new Float64Array(H * ow);
  for (let y = 0; y < H; y++) {
    for (let xo = 0; xo < ow; xo++) {
      let s = 0;
      for (let i = 0; i < k; i++) s += g[i]! * x[y * W + xo + i]!;
      tmp[y * ow + xo] = s;
    }
  }
  const out = new Float64Array(oh * ow);
  for (let yo = 0; yo < oh; yo++) {
    for (let xo = 0; xo < ow; xo++) {
      let s = 0;
      for (let i = 0; i < k; i++) s += g[i]! * tmp[(yo + i) * ow + xo]!;
      out[yo * ow + xo] = s;
    }
  }
  return out;
}

function ssimPlane(a: Float64Array, b: Float64Array, W: number, H: number, peak: number): number {
  let k = Math.min(SSIM_WINDOW_PX, W, H);
  if (k % 2 === 0) k -= 1;
  const g = gaussian(k, (SSIM_SIGMA_PX * k) / SSIM_WINDOW_PX);
  const n = W * H;
  const aa = new Float64Array(n);
  const bb = new Float64Array(n);
  const ab = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    aa[i] = a[i]! * a[i]!;
    bb[i] = b[i]! * b[i]!;
    ab[i] = a[i]! * b[i]!;
  }
  const mA = filterValid(a, W, H, g);
  const mB = filterValid(b, W, H, g);
  const sAA = filterValid(aa, W, H, g);
  const sBB = filterValid(bb, W, H, g);
  const sAB = filterValid(ab, W, H, g);
  const c1 = (SSIM_K1 * peak) ** 2;
  const c2 = (SSIM_K2 * peak) ** 2;
  let sum = 0;
  for (let i = 0; i < mA.length; i++) {
    const ma = mA[i]!;
    const mb = mB[i]!;
    const va = sAA[i]! - ma * ma;
    const vb = sBB[i]! - mb * mb;
    const cov = sAB[i]! - ma * mb;
    sum += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
  }
  return sum / mA.length;
}

/** Fraction of positions where `predicted[i]` equals `expected[i]` (strict equality). */
export function accuracy<T>(predicted: readonly T[], expected: readonly T[]): number {
  if (predicted.length !== expected.length) {
    throw new TypeError(`length mismatch: ${predicted.length} predictions, ${expected.length} labels`);
  }
  if (predicted.length === 0) throw new TypeError('empty input');
  let hit = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === expected[i]) hit++;
  return hit / predicted.length;
}

/**
 * Smoothing of zero n-gram matches (Chen & Cherry 2014):
 * - 'none': a zero precision makes BLEU 0 (standard corpus BLEU);
 * - 'epsilon': zero match counts become 0.1 (their method 1, NLTK's default epsilon);
 * - 'add1': for n ≥ 2, add 1 to matches and totals (their method 2, Lin & Och 2004).
 */
export type BleuSmoothing = 'none' | 'epsilon' | 'add1';

export interface BleuOptions {
  /** Highest n-gram order N (uniform weights 1/N); default 4. BLEU-1..BLEU-4 by setting 1..4. */
  maxOrder?: number;
  /** Default 'none' for `corpusBleu`, 'add1' for `sentenceBleu`. */
  smoothing?: BleuSmoothing;
}

export interface BleuResult {
  /** BLEU in [0, 1]. */
  readonly bleu: number;
  /** Modified n-gram precisions p1..pN (after smoothing). */
  readonly precisions: readonly number[];
  /** exp(1 − r/c) when c < r, else 1; c = hypothesis length, r = closest reference length (summed over the corpus). */
  readonly brevityPenalty: number;
  readonly hypothesisLength: number;
  readonly referenceLength: number;
}

function ngrams(tokens: readonly string[], n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join('\u0000');
    m.set(key, (m.get(key) ?? 0) + 1);
  }
  return m;
}

/**
 * Corpus BLEU (Papineni et al. 2002): clipped n-gram matches and totals summed over all sentences, then
 * the geometric mean of precisions times the brevity penalty. `references[i]` lists the token arrays of
 * sentence i's references; `hypotheses[i]` is its token array.
 */
export function corpusBleu(
  references: readonly (readonly (readonly string[])[])[],
  hypotheses: readonly (readonly string[])[],
  options: BleuOptions = {},
): BleuResult {
  const N = options.maxOrder ?? BLEU_MAX_ORDER;
  if (!Number.isInteger(N) || N < 1) throw new TypeError(`maxOrder must be a positive integer, got ${N}`);
  const smoothing = options.smoothing ?? 'none';
  if (references.length !== hypotheses.length) {
    throw new TypeError(`${references.length} reference sets for ${hypotheses.length} hypotheses`);
  }
  if (hypotheses.length === 0) throw new TypeError('empty corpus');
  const matches = new Array<number>(N).fill(0);
  const totals = new Array<number>(N).fill(0);
  let c = 0;
  let r = 0;
  for (let s = 0; s < hypotheses.length; s++) {
    const hyp = hypotheses[s]!;
    const refs = references[s]!;
    if (refs.length === 0) throw new TypeError(`sentence ${s} has no reference`);
    c += hyp.length;
    // Closest reference length; ties go to the shorter one (as in NLTK and sacrebleu).
    let best = refs[0]!.length;
    for (const ref of refs) {
      const d = Math.abs(ref.length - hyp.length);
      const bd = Math.abs(best - hyp.length);
      if (d < bd || (d === bd && ref.length < best)) best = ref.length;
    }
    r += best;
    for (let n = 1; n <= N; n++) {
      const h = ngrams(hyp, n);
      const maxRef = new Map<string, number>();
      for (const ref of refs) {
        for (const [k, v] of ngrams(ref, n)) maxRef.set(k, Math.max(maxRef.get(k) ?? 0, v));
      }
      for (const [k, v] of h) matches[n - 1]! += Math.min(v, maxRef.get(k) ?? 0);
      totals[n - 1]! += Math.max(hyp.length - n + 1, 0);
    }
  }
  const precisions: number[] = [];
  for (let n = 1; n <= N; n++) {
    let m = matches[n - 1]!;
    let t = totals[n - 1]!;
    if (smoothing === 'add1' && n >= 2) {
      m += 1;
      t += 1;
    } else if (smoothing === 'epsilon' && m === 0 && t > 0) {
      m = 0.1;
    }
    precisions.push(t === 0 ? 0 : m / t);
  }
  const brevityPenalty = c === 0 ? 0 : c < r ? Math.exp(1 - r / c) : 1;
  const bleu = precisions.some((p) => p === 0)
    ? 0
    : brevityPenalty * Math.exp(precisions.reduce((s, p) => s + Math.log(p), 0) / N);
  return { bleu, precisions, brevityPenalty, hypothesisLength: c, referenceLength: r };
}

/** Sentence BLEU: corpus BLEU of one sentence, smoothed ('add1') by default so short outputs are not 0. */
export function sentenceBleu(
  references: readonly (readonly string[])[],
  hypothesis: readonly string[],
  options: BleuOptions = {},
): BleuResult {
  return corpusBleu([references], [hypothesis], { ...options, smoothing: options.smoothing ?? 'add1' });
}
