/** A frame of raw RGB24 pixels, row-major, no padding. */
export interface RgbFrame {
  readonly width: number;
  readonly height: number;
  /** width × height × 3 bytes. */
  readonly data: Uint8Array;
}

const BARS: ReadonlyArray<readonly [number, number, number]> = [
  [235, 235, 235],
  [235, 235, 16],
  [16, 235, 235],
  [16, 235, 16],
  [235, 16, 235],
  [235, 16, 16],
  [16, 16, 235],
  [16, 16, 16],
];

/**
 * A moving test pattern: colour bars with a white box that travels one pixel per frame.
 * Deterministic in `index`, so a receiver can check what it got against `testPatternFrame(index)`.
 */
export function testPatternFrame(index: number, width: number, height: number): RgbFrame {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new TypeError(`testPatternFrame: invalid size ${width}×${height}`);
  }
  const data = new Uint8Array(width * height * 3);
  const box = Math.max(2, Math.floor(Math.min(width, height) / 4));
  const bx = index % Math.max(1, width - box);
  const by = Math.floor(height / 2 - box / 2);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const inBox = x >= bx && x < bx + box && y >= by && y < by + box;
      const bar = BARS[Math.floor((x * BARS.length) / width)]!;
      data[o] = inBox ? 255 : bar[0];
      data[o + 1] = inBox ? 255 : bar[1];
      data[o + 2] = inBox ? 255 : (bar[2] + index) & 0xff;
    }
  }
  return { width, height, data };
}
