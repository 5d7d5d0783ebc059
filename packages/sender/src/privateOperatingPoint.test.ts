// m4sc-send's private operating point: the default is measured, not assumed. The default bundle's private
// tasks on held-out scenes (the generator's seeds 9 + 10k), encoded and decoded by the real models with no channel
// noise besides the quantiser: caption exact match holds at the default point and falls at the cheapest one.
import {
  generateScene,
  type OperatingPoint,
  renderScene,
  SCENE_SIZE,
  type SemanticCodec,
  sceneCaption,
  sceneQuestions,
} from '@m4sc/semantic-codec';
import { createNodeSemanticCodec } from '@m4sc/semantic-codec/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BUNDLE_DIR } from './defaults.js';
import {
  cheapestOperatingPoint,
  defaultPrivateOperatingPoint,
  minPacketsForLoss,
} from './operatingPoints.js';

let codec: SemanticCodec;
beforeAll(async () => {
  codec = await createNodeSemanticCodec({ bundleDir: DEFAULT_BUNDLE_DIR });
});
afterAll(async () => {
  await codec?.close();
});

/** Caption exact match and answer accuracy over `n` held-out scenes at `op`. */
async function privateTasks(op: OperatingPoint, n: number) {
  let caption = 0;
  let answer = 0;
  for (let k = 0; k < n; k++) {
    const scene = generateScene(9 + 10 * (1000 + k));
    const qs = sceneQuestions(scene);
    const [query, truth] = qs[k % qs.length]!;
    const image = { data: renderScene(scene), width: SCENE_SIZE, height: SCENE_SIZE };
    const enc = await codec.encodeSample({ image }, op, {
      instructions: [{ task: 'caption' }, { task: 'answer', query }],
      privateOps: [op, op],
    });
    const [c, a] = await Promise.all(
      enc.private.map((p) =>
        codec.decodeSample({ stream: 'private', instruction: p.instruction!, packets: p.packets, op: p.op! }),
      ),
    );
    if (c?.text?.text === sceneCaption(scene)) caption++;
    if (a?.text?.text === truth) answer++;
  }
  return { caption: caption / n, answer: answer / n };
}

describe("m4sc-send's private operating point", () => {
  it('defaults to the cheapest point at half rate or more, where captions hold; the cheapest loses some', async () => {
    const def = defaultPrivateOperatingPoint(codec.operatingPoints);
    const cheapest = cheapestOperatingPoint(codec.operatingPoints);
    expect(def.name).toBe('q4-half');
    expect(cheapest.name).toBe('q4-quarter');
    const atDefault = await privateTasks(def, 150);
    const atCheapest = await privateTasks(cheapest, 150);
    console.info('[private point]', JSON.stringify({ [def.name]: atDefault, [cheapest.name]: atCheapest }));
    // Measured on 300 scenes: q4-half 1.000 / 1.000, q4-quarter 0.860 / 0.997.
    expect(atDefault.caption).toBeGreaterThanOrEqual(0.97);
    expect(atDefault.answer).toBeGreaterThanOrEqual(0.97);
    expect(atCheapest.caption).toBeLessThan(atDefault.caption);
  }, 120_000);

  it('spreads a sample over enough packets that a lossy link rarely loses it whole', () => {
    expect([0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 1, Number.NaN].map(minPacketsForLoss)).toEqual([
      1, 1, 2, 2, 3, 4, 7, 8, 1,
    ]);
    for (const p of [0.05, 0.2, 0.3, 0.5]) expect(p ** minPacketsForLoss(p)).toBeLessThanOrEqual(0.01);
  });
});
