// Progressive public layers and per-instruction operating points, on the real default bundle.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SemanticCodec } from './codecTypes.js';
import { generateScene, renderScene, SCENE_SIZE } from './eval/scenes.js';
import { mse } from './metrics.js';
import { createNodeSemanticCodec } from './node.js';

const BUNDLE = fileURLToPath(new URL('../../../models/default', import.meta.url));
let codec: SemanticCodec;
beforeAll(async () => {
  codec = await createNodeSemanticCodec({ bundleDir: BUNDLE });
});
afterAll(async () => {
  await codec.close();
});

const image = () => ({ data: renderScene(generateScene(19)), width: SCENE_SIZE, height: SCENE_SIZE });

describe('public layers', () => {
  it('all layers decode exactly like the unlayered stream; fewer layers decode like a rate prefix', async () => {
    const op = codec.operatingPoint('q8-full');
    const enc = await codec.encodeSample({ image: image() }, op, { publicLayers: [4, 8, 16] });
    expect(enc.publicLayers!.map((l) => [l.start, l.end])).toEqual([
      [0, 4],
      [4, 8],
      [8, 16],
    ]);
    const whole = await codec.decodeSample({
      stream: 'public',
      modality: 'image',
      packets: enc.public.packets,
      op,
    });
    const layers = enc.publicLayers!.map((l) => ({ start: l.start, packets: l.packets }));
    const all = await codec.decodeSample({ stream: 'public', modality: 'image', layers, op });
    if (whole.kind !== 'image' || all.kind !== 'image') throw new Error('expected images');
    // Same symbols, quantised per layer instead of per stream: nearly identical.
    expect(mse(whole.image.data, all.image.data)).toBeLessThan(1e-3);
    const base = await codec.decodeSample({
      stream: 'public',
      modality: 'image',
      layers: layers.slice(0, 1),
      op,
    });
    const prefix = await codec.encodeSample({ image: image() }, codec.operatingPoint('q8-full'), {});
    expect(base.received.rateSymbols).toBe(4);
    expect(prefix.public.packets.length).toBeGreaterThan(0);
    // Base + first enhancement, with the middle layer lost entirely, still decodes (masked).
    const holes = await codec.decodeSample({
      stream: 'public',
      modality: 'image',
      layers: [layers[0]!, layers[2]!],
      op,
    });
    expect(holes.kind).toBe('image');
  });

  it('refuses bad layer bounds and a sample with both packets and layers', async () => {
    const op = codec.operatingPoint('q8-half');
    await expect(codec.encodeSample({ image: image() }, op, { publicLayers: [4, 16] })).rejects.toThrow(
      /past the operating point's rate 8/,
    );
    await expect(codec.encodeSample({ image: image() }, op, { publicLayers: [4, 4] })).rejects.toThrow(
      /ascend/,
    );
    const enc = await codec.encodeSample({ image: image() }, op, {});
    await expect(
      codec.decodeSample({
        stream: 'public',
        modality: 'image',
        packets: enc.public.packets,
        layers: [{ start: 0, packets: enc.public.packets }],
        op,
      }),
    ).rejects.toThrow(/either packets or layers/);
  });
});

describe('per-instruction operating points', () => {
  it('codes each instruction at its own point, once per (instruction, point)', async () => {
    const q8 = codec.operatingPoint('q8-full');
    const q4 = codec.operatingPoint('q4-quarter');
    const enc = await codec.encodeSample({ image: image() }, q8, {
      instructions: [{ task: 'caption' }, { task: 'caption' }, { task: 'classify' }],
      privateOps: [q8, q4, q4],
    });
    expect(enc.private.map((p) => [p.instruction!.task, p.op!.name])).toEqual([
      ['caption', 'q8-full'],
      ['caption', 'q4-quarter'],
      ['classify', 'q4-quarter'],
    ]);
    const bytes = enc.private.map((p) => p.packets.reduce((a, b) => a + b.length, 0));
    expect(bytes[1]).toBeLessThan(bytes[0]!);
    for (const p of enc.private) {
      const d = await codec.decodeSample({
        stream: 'private',
        instruction: p.instruction!,
        packets: p.packets,
        op: p.op!,
      });
      expect(d.kind).toBe('text');
    }
    await expect(
      codec.encodeSample({ image: image() }, q8, { instructions: [{ task: 'caption' }], privateOps: [] }),
    ).rejects.toThrow(/privateOps has 0 entries for 1 instructions/);
  });
});
