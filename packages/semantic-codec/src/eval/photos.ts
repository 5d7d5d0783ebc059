/**
 * Held-out photo crops for `reconstruct`: the photos training holds out (`training/data/photos.py` TEST:
 * skimage's coffee, camera, gravel, rocket), cropped as training does — a square of random side 64..512 px
 * (capped by the photo) at a random place, box-resized (area average) to size×size, flipped at random.
 *
 * The draws come from mulberry32 (numpy's generator is not ported), so the crops are new crops of the
 * same held-out photos, not training's exact 512: same distribution, different samples.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { resampleRegion } from '../image.js';
import { createRng } from '../rng.js';
import { readRgb } from './sharp.js';

export const SKIMAGE_DIR = '/usr/lib/python3/dist-packages/skimage/data';
/** Photos held out from training (photos.py TEST). */
export const HELD_OUT_PHOTOS = ['coffee.png', 'camera.png', 'gravel.png', 'rocket.jpg'] as const;
/** Seed of the crop draws: fixed, so the test set does not change with `--seed`. */
export const CROP_SEED = 2;

export interface Photo {
  readonly name: string;
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

export async function loadHeldOutPhotos(dir = SKIMAGE_DIR): Promise<Photo[]> {
  const out: Photo[] = [];
  for (const name of HELD_OUT_PHOTOS) {
    const path = join(dir, name);
    if (!existsSync(path)) continue;
    out.push({ name, ...(await readRgb(path)) });
  }
  if (out.length === 0)
    throw new Error(`none of the held-out photos (${HELD_OUT_PHOTOS.join(', ')}) in ${dir}`);
  return out;
}

/** Area-average resize of the square (x0, y0, side s) of `src` to size×size (PIL's BOX filter). */
export function boxResize(src: Photo, x0: number, y0: number, s: number, size: number): Uint8Array {
  const v = resampleRegion(src.data, src.width, { x0, y0, width: s, height: s }, size, size);
  return Uint8Array.from(v, (x) => Math.min(255, Math.max(0, Math.round(x))));
}

/** `n` crops (RGB bytes, HWC, size×size), drawn evenly over the photos. */
export function photoCrops(
  photos: readonly Photo[],
  n: number,
  options: { seed?: number; size?: number; minSide?: number; maxSide?: number } = {},
): Uint8Array[] {
  const { seed = CROP_SEED, size = 32, minSide = 64, maxSide = 512 } = options;
  const rng = createRng(seed);
  const randint = (k: number) => Math.floor(rng.next() * k);
  const out: Uint8Array[] = [];
  for (let k = 0; k < n; k++) {
    const im = photos[k % photos.length]!;
    const hi = Math.min(maxSide, im.width, im.height);
    const s = minSide + randint(hi - minSide + 1);
    const x0 = randint(im.width - s + 1);
    const y0 = randint(im.height - s + 1);
    let crop = boxResize(im, x0, y0, s, size);
    if (rng.next() < 0.5) {
      const flipped = new Uint8Array(crop.length);
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          flipped.set(
            crop.subarray(3 * (y * size + x), 3 * (y * size + x) + 3),
            3 * (y * size + size - 1 - x),
          );
        }
      }
      crop = flipped;
    }
    out.push(crop);
  }
  return out;
}
