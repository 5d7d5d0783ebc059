/** Image layout helpers: the codec takes and returns interleaved RGB (HWC); the models use planar CHW. */

/** An interleaved RGB image (HWC). Floats are in [0, 1]; bytes in 0..255. */
export interface RgbImage {
  readonly data: Float32Array | Uint8Array | Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
}

/** Checks an RGB image; throws TypeError naming what is wrong. `stride` divides width and height. */
export function checkRgbImage(image: RgbImage, stride = 1, what = 'image'): void {
  if (typeof image !== 'object' || image === null) throw new TypeError(`${what} must be an object`);
  const { data, width, height } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new TypeError(`${what}: width and height must be positive integers, got ${width}×${height}`);
  }
  if (!(data instanceof Float32Array || data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw new TypeError(`${what}: data must be a Float32Array, Uint8Array or Uint8ClampedArray`);
  }
  if (data.length !== width * height * 3) {
    throw new TypeError(
      `${what}: ${data.length} values, expected ${width}×${height}×3 = ${width * height * 3}`,
    );
  }
  if (width % stride !== 0 || height % stride !== 0) {
    throw new TypeError(`${what}: ${width}×${height} is not a multiple of the model's stride ${stride}`);
  }
  if (data instanceof Float32Array) {
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]!)) throw new TypeError(`${what}: value ${i} is not finite (${data[i]})`);
    }
  }
}

/** Writes HWC RGB (bytes scaled by 1/255) into `out` as CHW float32 at `offset`. */
export function hwcToChw(image: RgbImage, out: Float32Array, offset = 0): void {
  const { data, width: W, height: H } = image;
  const k = data instanceof Float32Array ? 1 : 1 / 255;
  const plane = W * H;
  for (let p = 0; p < plane; p++) {
    out[offset + p] = data[3 * p]! * k;
    out[offset + plane + p] = data[3 * p + 1]! * k;
    out[offset + 2 * plane + p] = data[3 * p + 2]! * k;
  }
}

/** Reads CHW float32 at `offset` into a new HWC RGB float image, clamped to [0, 1]. */
export function chwToHwc(src: Float32Array, width: number, height: number, offset = 0): RgbImage {
  const plane = width * height;
  const data = new Float32Array(plane * 3);
  const clamp = (v: number) => Math.min(1, Math.max(0, v));
  for (let p = 0; p < plane; p++) {
    data[3 * p] = clamp(src[offset + p]!);
    data[3 * p + 1] = clamp(src[offset + plane + p]!);
    data[3 * p + 2] = clamp(src[offset + 2 * plane + p]!);
  }
  return { data, width, height };
}

/** A float image in [0, 1] as 8-bit RGB (rounded, clamped). Byte images are returned as they are. */
export function toRgb8(image: RgbImage): RgbImage & { data: Uint8Array | Uint8ClampedArray } {
  if (!(image.data instanceof Float32Array)) return image as RgbImage & { data: Uint8Array };
  const out = new Uint8Array(image.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, image.data[i]!)) * 255);
  return { data: out, width: image.width, height: image.height };
}

/** Per output index, the input pixels it covers and their overlap weights (summing to 1): an area filter. */
export function areaSpans(inSize: number, outSize: number): { i: number; w: number }[][] {
  const scale = inSize / outSize;
  const spans: { i: number; w: number }[][] = [];
  for (let o = 0; o < outSize; o++) {
    const a = o * scale;
    const b = (o + 1) * scale;
    const span: { i: number; w: number }[] = [];
    for (let i = Math.floor(a); i < Math.ceil(b); i++) {
      const w = Math.min(b, i + 1) - Math.max(a, i);
      if (w > 0) span.push({ i, w: w / scale });
    }
    spans.push(span);
  }
  return spans;
}

/**
 * `image` resampled to width × height by area averaging (PIL's BOX filter): each output pixel is the mean of
 * the input area it covers, so shrinking a frame made by pixel replication gives back the original exactly;
 * growing one picks the covering pixel. Returns floats in [0, 1].
 */
export function resampleArea(image: RgbImage, width: number, height: number): RgbImage {
  const { data, width: W, height: H } = image;
  const k = data instanceof Float32Array ? 1 : 1 / 255;
  const region = { x0: 0, y0: 0, width: W, height: H };
  return { data: Float32Array.from(resampleRegion(data, W, region, width, height, k)), width, height };
}

/**
 * The area average of `region` of an HWC RGB buffer `stride` pixels wide, at width × height, times `scale`
 * (HWC, float64: the eval's photo crops round it to bytes as it is, with scale 1).
 */
export function resampleRegion(
  data: ArrayLike<number>,
  stride: number,
  region: { x0: number; y0: number; width: number; height: number },
  width: number,
  height: number,
  scale = 1,
): Float64Array {
  const xs = areaSpans(region.width, width);
  const ys = areaSpans(region.height, height);
  const out = new Float64Array(width * height * 3);
  for (let oy = 0; oy < height; oy++) {
    for (let ox = 0; ox < width; ox++) {
      for (let c = 0; c < 3; c++) {
        let v = 0;
        for (const sy of ys[oy]!) {
          const row = (region.y0 + sy.i) * stride;
          for (const sx of xs[ox]!) v += sy.w * sx.w * data[3 * (row + region.x0 + sx.i) + c]!;
        }
        out[3 * (oy * width + ox) + c] = v * scale;
      }
    }
  }
  return out;
}
