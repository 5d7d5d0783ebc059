import { describe, expect, it } from 'vitest';
import { autoImagePath } from './imagePath.js';

describe('--image-path auto', () => {
  it('takes the public image code for natural-image sources that tile into its blocks, and says why', () => {
    for (const source of ['images', 'y4m', 'camera']) {
      expect(autoImagePath(source, 16, 64, 48)).toEqual({
        path: 'code',
        reason: `${source} frames are natural images`,
      });
    }
  });

  it('keeps the learned path for the synthetic scenes, the pattern, frames that do not tile, and bundles without a code', () => {
    const at = (source: string, block: number | undefined, w: number, h: number) =>
      autoImagePath(source, block, w, h);
    expect(at('synthetic', 16, 32, 32).path).toBe('learned');
    expect(at('synthetic', 16, 32, 32).reason).toMatch(/trained on/);
    expect(at('pattern', 16, 64, 64).path).toBe('learned');
    expect(at('pattern', 16, 64, 64).reason).toMatch(/not natural images/);
    expect(at('y4m', 16, 40, 40).path).toBe('learned');
    expect(at('y4m', 16, 40, 40).reason).toMatch(/40×40 does not tile into the code's 16-pixel blocks/);
    expect(at('camera', undefined, 64, 64).path).toBe('learned');
    expect(at('camera', undefined, 64, 64).reason).toMatch(/no public image code/);
  });
});
