import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ablationBundleDirs } from './run.js';

describe('ablation bundles beside the main one', () => {
  const root = mkdtempSync(join(tmpdir(), 'm4sc-ablat-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('takes sibling bundles named ablat…, not other bundles, folders without a manifest, or the main one', () => {
    for (const [dir, manifest] of [
      ['default', true],
      ['ablate-mlp', true],
      ['ablation-single', true],
      ['ablate-empty', false],
      ['calib-bundle', true],
    ] as const) {
      mkdirSync(join(root, dir));
      if (manifest) writeFileSync(join(root, dir, 'manifest.json'), '{}');
    }
    expect(ablationBundleDirs(join(root, 'default'))).toEqual([
      join(root, 'ablate-mlp'),
      join(root, 'ablation-single'),
    ]);
    expect(ablationBundleDirs(join(root, 'ablate-mlp'))).toEqual([join(root, 'ablation-single')]);
    expect(ablationBundleDirs(join(root, 'missing', 'default'))).toEqual([]);
  });
});
