/**
 * sharp (libvips) for the evaluation only: decoding the held-out photos, the JPEG/WebP baselines and
 * rasterising plots. Loaded lazily so that the codec itself never depends on it.
 */
import type SharpDefault from 'sharp';

export type Sharp = typeof SharpDefault;

let cached: Sharp | undefined;

/** The sharp module; throws an Error saying how to install it when it is missing. */
export async function loadSharp(): Promise<Sharp> {
  if (cached) return cached;
  try {
    const mod = (await import('sharp')) as unknown as { default?: Sharp } & Sharp;
    cached = mod.default ?? mod;
    return cached;
  } catch (e) {
    throw new Error(
      `m4sc-eval needs sharp for photos, JPEG/WebP baselines and PNG plots (npm install sharp): ${
        e instanceof Error ? e.message : String(e)
      }`,
    );
  }
}

/** Decodes any image file to RGB bytes (HWC); grey is replicated, alpha dropped (as PIL's convert("RGB")). */
export async function readRgb(path: string): Promise<{ data: Uint8Array; width: number; height: number }> {
  const sharp = await loadSharp();
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  const out = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    if (channels >= 3) {
      out[3 * p] = data[channels * p]!;
      out[3 * p + 1] = data[channels * p + 1]!;
      out[3 * p + 2] = data[channels * p + 2]!;
    } else {
      const v = data[channels * p]!;
      out[3 * p] = v;
      out[3 * p + 1] = v;
      out[3 * p + 2] = v;
    }
  }
  return { data: out, width, height };
}
