/**
 * The classical baseline: a digital image/text codec over an ideal capacity-achieving channel code.
 *
 * Over k complex channel uses at SNR s (linear), Shannon's capacity carries k·log2(1 + s) bits; a frame
 * whose bytes fit arrives intact, one that does not fit cannot be sent (the "cliff"). JPEG and WebP
 * (sharp/libvips defaults, whole files, headers included) run at the largest quality 1..100 whose file
 * fits; when none fits the receiver shows a mid-grey frame. Over a packet network a frame is split into
 * MTU-sized packets and is lost when any of them is lost.
 */
import { psnr, ssim } from '../metrics.js';
import type { Rng } from '../rng.js';
import { loadSharp } from './sharp.js';

/** Path MTU the baseline's packets fill (bytes of payload per packet). */
export const BASELINE_MTU_BYTES = 1200;
/** Qualities tried, 1..100. */
export const QUALITIES: readonly number[] = Array.from({ length: 100 }, (_, i) => i + 1);
/** The frame shown when nothing arrives: every value 0.5 (mid-grey). */
export const GREY = 0.5;

/** Bits that k complex channel uses carry at `snrDb` with an ideal code: k·log2(1 + 10^(snrDb/10)). */
export function capacityBits(complexUses: number, snrDb: number, gain = 1): number {
  if (!(complexUses >= 0)) throw new TypeError(`complexUses must be ≥ 0, got ${complexUses}`);
  return complexUses * Math.log2(1 + gain * 10 ** (snrDb / 10));
}

/** Index (into `sizes`, by quality) of the largest quality whose size fits `budgetBytes`; -1 when none. */
export function largestFitting(sizes: readonly number[], budgetBytes: number): number {
  for (let i = sizes.length - 1; i >= 0; i--) if (sizes[i]! <= budgetBytes) return i;
  return -1;
}

/** Packets a frame of `bytes` needs at `mtu` bytes each (at least one). */
export function packetsFor(bytes: number, mtu = BASELINE_MTU_BYTES): number {
  return Math.max(1, Math.ceil(bytes / mtu));
}

/** Whether a frame of `packets` packets is lost: each packet independently lost with `lossRate`. */
export function frameLost(rng: Rng, packets: number, lossRate: number): boolean {
  let lost = false;
  for (let i = 0; i < packets; i++) if (rng.next() < lossRate) lost = true; // draw all: fixed stream use
  return lost;
}

/** |h|² of a Rayleigh fade h ~ CN(0, 1): exponential with mean 1. */
export function rayleighPowerGain(rng: Rng): number {
  return -Math.log(1 - rng.next());
}

export type ImageFormat = 'jpeg' | 'webp';

/** What the receiver of a classical frame sees. */
export interface ClassicalResult {
  /** Quality used, or 0 when nothing fit (or the frame was lost). */
  readonly quality: number;
  readonly bytes: number;
  readonly psnr: number;
  readonly ssim: number;
}

/**
 * One reference image and its JPEG/WebP encodings at every quality (sizes computed once, decoded
 * metrics computed on demand and cached).
 */
export class ClassicalImage {
  readonly #rgb: Uint8Array;
  readonly #ref: Float32Array;
  readonly #sizes = new Map<ImageFormat, number[]>();
  readonly #files = new Map<string, Uint8Array>();
  readonly #metrics = new Map<string, { psnr: number; ssim: number }>();
  readonly grey: { psnr: number; ssim: number };

  constructor(
    rgb: Uint8Array,
    readonly width: number,
    readonly height: number,
  ) {
    this.#rgb = rgb;
    this.#ref = Float32Array.from(rgb, (v) => v / 255);
    const g = new Float32Array(this.#ref.length).fill(GREY);
    this.grey = { psnr: psnr(this.#ref, g), ssim: ssim(this.#img(this.#ref), this.#img(g)) };
  }

  #img(data: Float32Array) {
    return { data, width: this.width, height: this.height };
  }

  /** File sizes in bytes at qualities 1..100. */
  async sizes(format: ImageFormat): Promise<number[]> {
    const have = this.#sizes.get(format);
    if (have) return have;
    const sharp = await loadSharp();
    const raw = { raw: { width: this.width, height: this.height, channels: 3 as const } };
    const files = await Promise.all(
      QUALITIES.map((quality) => {
        const s = sharp(Buffer.from(this.#rgb.buffer, this.#rgb.byteOffset, this.#rgb.length), raw);
        return (format === 'jpeg' ? s.jpeg({ quality }) : s.webp({ quality })).toBuffer();
      }),
    );
    files.forEach((f, i) => {
      this.#files.set(`${format}:${QUALITIES[i]}`, new Uint8Array(f));
    });
    const sizes = files.map((f) => f.length);
    this.#sizes.set(format, sizes);
    return sizes;
  }

  async #decoded(format: ImageFormat, quality: number): Promise<{ psnr: number; ssim: number }> {
    const key = `${format}:${quality}`;
    const have = this.#metrics.get(key);
    if (have) return have;
    await this.sizes(format);
    const sharp = await loadSharp();
    const file = this.#files.get(key)!;
    const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== this.width || info.height !== this.height) {
      throw new Error(`${format} decoded to ${info.width}×${info.height}×${info.channels}`);
    }
    const out = Float32Array.from(data, (v) => v / 255);
    const m = { psnr: psnr(this.#ref, out), ssim: ssim(this.#img(this.#ref), this.#img(out)) };
    this.#metrics.set(key, m);
    return m;
  }

  /** The largest quality that fits `budgetBytes`, decoded; the grey frame when none fits. */
  async atBudget(format: ImageFormat, budgetBytes: number): Promise<ClassicalResult> {
    const sizes = await this.sizes(format);
    const i = largestFitting(sizes, budgetBytes);
    if (i < 0) return { quality: 0, bytes: 0, ...this.grey };
    const q = QUALITIES[i]!;
    return { quality: q, bytes: sizes[i]!, ...(await this.#decoded(format, q)) };
  }
}

/** Bytes of a text as UTF-8: what a raw-text sender must deliver. */
export function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).length;
}
