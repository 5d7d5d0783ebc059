/** The BundleError a bundle directory is refused with (fails the test if it loads). */
import { expect } from 'vitest';
import { loadBundle } from '../src/bundle.js';
import { BundleError } from '../src/errors.js';
import type { OrtLike } from '../src/ortTypes.js';

export async function bundleRefusal(dir: string, ort: OrtLike): Promise<BundleError> {
  try {
    const b = await loadBundle(dir, { ort });
    await b.close();
  } catch (e) {
    expect(e).toBeInstanceOf(BundleError);
    return e as BundleError;
  }
  throw new Error('bundle was accepted');
}
