import { describe, expect, it } from 'vitest';
import { autoImagePath, autoImagePathReason } from './imagePath.js';

describe('--image-path auto', () => {
  it('takes the public image code for natural-image sources that tile into its blocks, and says why', () => {
    for (const source of ['images', 'y4m', 'camera']) {
      expect(autoImagePath(source, 16, 64, 48)).toBe('code');
      expect(autoImagePathReason(source, 16, 64, 48)).toBe(`${source} frames are natural images`);
    }
  });

  it('keeps the learned path for the synthetic scenes, the pattern, frames that do not tile, and bundles without a code', () => {
    expect(autoImagePath('synthetic', 16, 32, 32)).toBe('learned');
    expect(autoImagePathReason('synthetic', 16, 32, 32)).toMatch(/trained on/);
    expect(autoImagePath('pattern', 16, 64, 64)).toBe('learned');
    expect(autoImagePathReason('pattern', 16, 64, 64)).toMatch(/not natural images/);
    expect(autoImagePath('y4m', 16, 40, 40)).toBe('learned');
    expect(autoImagePathReason('y4m', 16, 40, 40)).toMatch(
      /40×40 does not tile into the code's 16-pixel blocks/,
    );
    expect(autoImagePath('camera', undefined, 64, 64)).toBe('learned');
    expect(autoImagePathReason('camera', undefined, 64, 64)).toMatch(/no public image code/);
  });
});
