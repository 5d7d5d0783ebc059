/**
 * The Fashion-MNIST t10k split (held out by training) from Debian's dataset-fashion-mnist, prepared as
 * `training/data/fashion.py` does: 28×28 padded to 32×32 with zeros, grey replicated to RGB.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export const FASHION_DIR = '/usr/share/datasets/fashion-mnist';
/** Label words, as the bundle's output vocabulary spells them (fashion.py LABELS). */
export const FASHION_LABELS = [
  'tshirt',
  'trouser',
  'pullover',
  'dress',
  'coat',
  'sandal',
  'shirt',
  'sneaker',
  'bag',
  'boot',
] as const;

export interface LabelledImages {
  /** RGB bytes, HWC, 32×32 each. */
  readonly images: Uint8Array[];
  readonly labels: number[];
  readonly size: number;
}

/** The first `n` t10k images (all when n is undefined). */
export function fashionTest(n?: number, dir = FASHION_DIR): LabelledImages {
  const img = gunzipSync(readFileSync(join(dir, 't10k-images-idx3-ubyte.gz')));
  const lab = gunzipSync(readFileSync(join(dir, 't10k-labels-idx1-ubyte.gz')));
  const count = img.readUInt32BE(4);
  const rows = img.readUInt32BE(8);
  const cols = img.readUInt32BE(12);
  if (rows !== 28 || cols !== 28 || lab.readUInt32BE(4) !== count) {
    throw new Error(`unexpected Fashion-MNIST files in ${dir}`);
  }
  const m = Math.min(n ?? count, count);
  const size = 32;
  const images: Uint8Array[] = [];
  const labels: number[] = [];
  for (let k = 0; k < m; k++) {
    const out = new Uint8Array(size * size * 3);
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        const v = img[16 + k * 784 + y * 28 + x]!;
        const o = 3 * ((y + 2) * size + x + 2);
        out[o] = v;
        out[o + 1] = v;
        out[o + 2] = v;
      }
    }
    images.push(out);
    labels.push(lab[8 + k]!);
  }
  return { images, labels, size };
}
