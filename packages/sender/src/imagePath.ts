// `m4sc-send --image-path auto`: which public path images take by default.
/** Sources of natural images, which the public image code serves better than the learned token path. */
const NATURAL_SOURCES = new Set(['images', 'y4m', 'camera']);

/**
 * `--image-path auto`: the public image code for natural images (photos, video, a camera) whose frames tile into
 * its blocks; the learned token path otherwise (the synthetic scenes it was trained on, the test pattern, or no code).
 */
export function autoImagePath(
  source: string,
  block: number | undefined,
  width: number,
  height: number,
): 'learned' | 'code' {
  return NATURAL_SOURCES.has(source) && block !== undefined && width % block === 0 && height % block === 0
    ? 'code'
    : 'learned';
}

/** Why `--image-path auto` chose what it chose, in words. */
export function autoImagePathReason(
  source: string,
  block: number | undefined,
  width: number,
  height: number,
): string {
  if (block === undefined) return 'the bundle has no public image code';
  if (source === 'synthetic') return 'the synthetic scenes are what the learned path was trained on';
  if (!NATURAL_SOURCES.has(source)) return `the ${source} source is not natural images`;
  if (width % block !== 0 || height % block !== 0)
    return `${width}×${height} does not tile into the code's ${block}-pixel blocks`;
  return `${source} frames are natural images`;
}
