// `m4sc-send --image-path auto`: which public path images take by default, and why.

/** Sources of natural images, which the public image code serves better than the learned token path. */
const NATURAL_SOURCES = new Set(['images', 'y4m', 'camera']);

/**
 * `--image-path auto`: the public image code for natural images (photos, video, a camera) whose frames tile into
 * its blocks (`block`, undefined when the bundle has no code); the learned token path otherwise (the synthetic
 * scenes it was trained on, the test pattern, frames that do not tile, or no code). `reason` says why, in words.
 */
export function autoImagePath(
  source: string,
  block: number | undefined,
  width: number,
  height: number,
): { path: 'learned' | 'code'; reason: string } {
  const learned = (reason: string) => ({ path: 'learned' as const, reason });
  if (block === undefined) return learned('the bundle has no public image code');
  if (source === 'synthetic') return learned('the synthetic scenes are what the learned path was trained on');
  if (!NATURAL_SOURCES.has(source)) return learned(`the ${source} source is not natural images`);
  if (width % block !== 0 || height % block !== 0)
    return learned(`${width}×${height} does not tile into the code's ${block}-pixel blocks`);
  return { path: 'code', reason: `${source} frames are natural images` };
}
