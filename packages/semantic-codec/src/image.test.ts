/** The area resampler the private path uses to bring frames to the size its tasks were trained at. */
import { describe, expect, it } from 'vitest';
import { areaSpans, resampleArea } from './image.js';
import { createRng } from './rng.js';

const random = (w: number, h: number, seed: number) => {
  const r = createRng(seed);
  return {
    width: w,
    height: h,
    data: Uint8Array.from({ length: w * h * 3 }, () => Math.floor(r.next() * 256)),
  };
};

describe('resampleArea', () => {
  it('shrinking a pixel-replicated frame gives back the original exactly', () => {
    const small = random(8, 6, 1);
    const big = new Uint8Array(16 * 12 * 3);
    for (let y = 0; y < 12; y++)
      for (let x = 0; x < 16; x++)
        big.set(
          small.data.subarray(3 * ((y >> 1) * 8 + (x >> 1)), 3 * ((y >> 1) * 8 + (x >> 1)) + 3),
          3 * (y * 16 + x),
        );
    const back = resampleArea({ width: 16, height: 12, data: big }, 8, 6);
    expect(back.width).toBe(8);
    expect(back.height).toBe(6);
    back.data.forEach((v, i) => {
      expect(v).toBeCloseTo(small.data[i]! / 255, 6);
    });
  });

  it('averages areas at a non-integer ratio, keeping the mean, and takes floats as they are', () => {
    const im = random(10, 7, 2);
    const out = resampleArea(im, 4, 3);
    for (let c = 0; c < 3; c++) {
      let a = 0;
      let b = 0;
      for (let p = 0; p < 70; p++) a += im.data[3 * p + c]! / 255 / 70;
      for (let p = 0; p < 12; p++) b += out.data[3 * p + c]! / 12;
      expect(b).toBeCloseTo(a, 6);
    }
    const f = resampleArea({ width: 4, height: 3, data: out.data }, 4, 3);
    expect(Array.from(f.data)).toEqual(Array.from(out.data));
    for (const spans of [areaSpans(10, 4), areaSpans(3, 7)])
      for (const s of spans) expect(s.reduce((t, x) => t + x.w, 0)).toBeCloseTo(1, 9);
  });

  it('growing picks the covering pixel', () => {
    const im = random(2, 2, 3);
    const out = resampleArea(im, 4, 4);
    expect(out.data[3 * (3 * 4 + 3)]).toBeCloseTo(im.data[3 * 3]! / 255, 6);
    expect(out.data[0]).toBeCloseTo(im.data[0]! / 255, 6);
  });
});
