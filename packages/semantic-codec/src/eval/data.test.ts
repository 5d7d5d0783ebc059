/**
 * The evaluation's held-out data readers agree with training's: the scene generator port reproduces
 * the bundle's scenes.json pixel for pixel; the fortunes split matches the Python one; Fashion-MNIST and
 * the photo crops have the expected layout.
 */

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FASHION_DIR, FASHION_LABELS, fashionTest } from './fashion.js';
import { FORTUNES_DIR, heldOutSentences } from './fortunes.js';
import { boxResize, loadHeldOutPhotos, photoCrops, SKIMAGE_DIR } from './photos.js';
import { generateScene, renderScene, sceneCaption, sceneQuestions } from './scenes.js';

const SCENES = fileURLToPath(new URL('../../../../models/default/testdata/scenes.json', import.meta.url));

describe('scene generator port', () => {
  it('reproduces every scene of models/default/testdata/scenes.json (shapes, pixels, caption, Q/A)', () => {
    const json = JSON.parse(readFileSync(SCENES, 'utf8')) as {
      scenes: {
        seed: number;
        shapes: unknown[];
        caption: string;
        qa: { q: string; a: string }[];
        rgb: string;
      }[];
    };
    expect(json.scenes.length).toBeGreaterThan(10);
    for (const s of json.scenes) {
      const scene = generateScene(s.seed);
      expect(scene.shapes).toEqual(
        (s.shapes as Record<string, unknown>[]).map((p) => ({
          shape: p.shape,
          colour: p.colour,
          r: p.r,
          x: p.x,
          y: p.y,
        })),
      );
      expect(Buffer.from(renderScene(scene)).toString('base64')).toBe(s.rgb);
      expect(sceneCaption(scene)).toBe(s.caption);
      expect(sceneQuestions(scene).map(([q, a]) => ({ q, a }))).toEqual(s.qa);
    }
  });
});

describe.skipIf(!existsSync(FORTUNES_DIR))('fortunes held-out split', () => {
  it("matches training/data/fortunes.py's held-out sentences (count and digest from the Python run)", () => {
    // From: cd training && python3 -c "from data.fortunes import *; t=[s for s in sentences() if is_test(s)];
    //   import hashlib; print(len(t), hashlib.sha1('\n'.join(t).encode()).hexdigest())"  (Debian fortunes)
    const t = heldOutSentences();
    expect(t.length).toBe(1165);
    expect(createHash('sha1').update(t.join('\n')).digest('hex')).toBe(
      '397c123c48b6536fd25b04b95e79dadbdcf22f90',
    );
  });
});

describe.skipIf(!existsSync(FASHION_DIR))('Fashion-MNIST t10k', () => {
  it('pads 28×28 to 32×32 RGB and reads the labels (the first t10k item is an ankle boot)', () => {
    const f = fashionTest(3);
    expect(f.images).toHaveLength(3);
    expect(f.images[0]!.length).toBe(32 * 32 * 3);
    expect(FASHION_LABELS[f.labels[0]!]).toBe('boot');
    // The 2-px border is zero, and grey is replicated to R, G, B.
    const im = f.images[0]!;
    expect(im.subarray(0, 2 * 32 * 3).every((v) => v === 0)).toBe(true);
    for (let p = 0; p < 32 * 32; p++) expect(im[3 * p]).toBe(im[3 * p + 2]);
  });
});

describe('photo crops', () => {
  it('box-resizes by area averaging (an integer factor gives block means)', () => {
    const W = 8;
    const data = new Uint8Array(W * W * 3);
    for (let i = 0; i < W * W; i++) data.fill(i % 2 === 0 ? 0 : 200, 3 * i, 3 * i + 3);
    const out = boxResize({ name: 't', data, width: W, height: W }, 0, 0, 8, 4);
    expect([...out].every((v) => v === 100)).toBe(true);
  });

  it.skipIf(!existsSync(SKIMAGE_DIR))(
    'draws the same crops for the same seed, of the requested size',
    async () => {
      const photos = await loadHeldOutPhotos();
      expect(photos.map((p) => p.name)).toEqual(['coffee.png', 'camera.png', 'gravel.png', 'rocket.jpg']);
      const a = photoCrops(photos, 4, { size: 32 });
      const b = photoCrops(photos, 4, { size: 32 });
      expect(a.map((x) => x.length)).toEqual([3072, 3072, 3072, 3072]);
      expect(a).toEqual(b);
      expect(photoCrops(photos, 4, { size: 32, seed: 3 })).not.toEqual(a);
    },
  );
});
