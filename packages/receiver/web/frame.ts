/** Draws decoded RGB frames on the page's canvas at the largest integer scale that fits. */

/** Largest integer scale of a `w`×`h` image inside `maxW`×`maxH` (at least 1). */
export function integerScale(w: number, h: number, maxW: number, maxH: number): number {
  return Math.max(1, Math.floor(Math.min(maxW / w, maxH / h)));
}

/**
 * Draws RGB24 `image` on `canvas`: each source pixel becomes a `scale`×`scale` block (nearest neighbour,
 * done here rather than by the browser's resampler), and the canvas is resized to fit it exactly.
 * `image-rendering: pixelated` in the style keeps any CSS scaling crisp too.
 */
export function drawRgbFrame(
  canvas: HTMLCanvasElement,
  image: { data: Uint8Array; width: number; height: number },
  maxSidePx = 384,
): number {
  const { width: w, height: h, data } = image;
  const scale = integerScale(w, h, maxSidePx, maxSidePx);
  const W = w * scale;
  const H = h * scale;
  if (canvas.width !== W || canvas.height !== H) {
    canvas.width = W;
    canvas.height = H;
  }
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) return scale;
  const out = ctx.createImageData(W, H);
  const px = out.data;
  for (let y = 0; y < H; y++) {
    const sy = (y / scale) | 0;
    for (let x = 0; x < W; x++) {
      const s = 3 * (sy * w + ((x / scale) | 0));
      const d = 4 * (y * W + x);
      px[d] = data[s]!;
      px[d + 1] = data[s + 1]!;
      px[d + 2] = data[s + 2]!;
      px[d + 3] = 255;
    }
  }
  ctx.putImageData(out, 0, 0);
  return scale;
}

/** Reads back the source image from a canvas drawn by {@link drawRgbFrame} (one sample per block centre). */
export function readRgbFrame(canvas: HTMLCanvasElement, scale: number): Uint8Array {
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const W = canvas.width;
  const H = canvas.height;
  const px = ctx.getImageData(0, 0, W, H).data;
  const w = W / scale;
  const h = H / scale;
  const out = new Uint8Array(w * h * 3);
  const c = (scale / 2) | 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = 4 * ((y * scale + c) * W + x * scale + c);
      const d = 3 * (y * w + x);
      out[d] = px[s]!;
      out[d + 1] = px[s + 1]!;
      out[d + 2] = px[s + 2]!;
    }
  }
  return out;
}
