/**
 * The evaluation's batched decode path equals the codec's own one-sample path on the real bundle, and
 * the packet path is the codec's packetize/depacketize (a lossless run equals decodeSample).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundle } from '../bundle.js';
import { createSemanticCodec } from '../codec.js';
import type { SemanticCodec } from '../codecTypes.js';
import { createRng } from '../rng.js';
import { channelDecodeBatch, concatTokens, sliceTokens, transmit } from './pipeline.js';
import { generateScene, heldOutSceneSeeds, renderScene } from './scenes.js';

const BUNDLE =
  process.env.M4SC_BUNDLE_DIR ?? fileURLToPath(new URL('../../../../models/default', import.meta.url));

let codec: SemanticCodec;
const images = heldOutSceneSeeds(3).map((s) => ({
  data: renderScene(generateScene(s)),
  width: 32,
  height: 32,
}));

beforeAll(async () => {
  if (!existsSync(`${BUNDLE}/manifest.json`)) throw new Error(`no model bundle at ${BUNDLE}`);
  const bundle = await loadBundle(BUNDLE, { ort, sessionOptions: { intraOpNumThreads: 1 } });
  codec = await createSemanticCodec({ bundle });
}, 60_000);
afterAll(async () => {
  const b = codec?.bundle;
  await codec?.close();
  await b?.close();
});

describe('channelDecodeBatch', () => {
  it('gives what codec.channelDecode gives, sample by sample (random symbols and masks)', async () => {
    const pub = await codec.publicEncode(await codec.encodeImage(images));
    const state = { snrDb: 7, lossRate: 0.1 };
    const sym = await codec.channelEncode(pub, state);
    const n = sym.T * sym.C;
    const rng = createRng(3);
    const items = images.map((_, b) => ({
      symbols: sym.data.slice(b * n, (b + 1) * n).map((v) => v + 0.3 * rng.normal()),
      mask: Float32Array.from({ length: n }, () => (rng.next() < 0.7 ? 1 : 0)),
    }));
    const batched = await channelDecodeBatch(codec.bundle, items, sym.T, sym.C, state, 'public');
    for (let b = 0; b < images.length; b++) {
      const one = await codec.channelDecode({ ...items[b]!, T: sym.T, C: sym.C, gridWidth: 8 }, state);
      const D = one.D;
      const got = batched.subarray(b * sym.T * D, (b + 1) * sym.T * D);
      let maxDiff = 0;
      for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i]! - one.data[i]!));
      expect(maxDiff).toBeLessThan(1e-4);
    }
  });
});

describe('transmit', () => {
  it('on the packet path with no loss decodes what codec.decodeSample decodes', async () => {
    const op = codec.operatingPoints.find((p) => p.bits === 8 && p.rateSymbols === codec.manifest.dims.C)!;
    const pub = await codec.publicEncode(await codec.encodeImage(images));
    const cond = { path: 'packets', op, lossRate: 0, minPackets: 4, maxPacketBytes: 1100 } as const;
    const { tokens, stats } = await transmit(codec, pub, 'public', cond, 1);
    expect(stats.packets).toEqual([4, 4, 4]);
    expect(stats.received).toEqual([4, 4, 4]);
    const ours = await codec.decodeImage(tokens);
    for (let b = 0; b < images.length; b++) {
      const enc = await codec.encodeSample({ image: images[b]! }, op, { minPackets: 4 });
      const dec = await codec.decodeSample({
        stream: 'public',
        modality: 'image',
        packets: enc.public.packets,
        op,
      });
      if (dec.kind !== 'image') throw new Error('not an image');
      let maxDiff = 0;
      for (let i = 0; i < dec.image.data.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(dec.image.data[i]! - ours[b]!.data[i]!));
      }
      expect(maxDiff).toBeLessThan(1e-4);
    }
  });

  it('keeps only the rate prefix on the symbol path, and all-lost packets still decode', async () => {
    const pub = await codec.publicEncode(await codec.encodeImage(images));
    const a = await transmit(
      codec,
      pub,
      'public',
      { path: 'symbols', channel: 'awgn', snrDb: 10, rateSymbols: 2 },
      1,
    );
    expect(a.tokens.batch).toBe(3);
    const op = codec.operatingPoints[0]!;
    const lost = await transmit(
      codec,
      pub,
      'public',
      { path: 'packets', op, lossRate: 1, minPackets: 2, maxPacketBytes: 1100 },
      1,
    );
    expect(lost.stats.received).toEqual([0, 0, 0]);
    expect(lost.tokens.data.every(Number.isFinite)).toBe(true);
  });

  it('concatTokens and sliceTokens are inverse', () => {
    const t = { data: Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i), batch: 2, T: 3, D: 4 };
    expect(concatTokens([sliceTokens(t, 0, 1), sliceTokens(t, 1, 1)])).toEqual(t);
  });
});
