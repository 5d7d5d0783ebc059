/**
 * The runtime's glue against the PyTorch pipeline (models/default/testdata/pipeline.json, written by
 * training/reference.py): over a noiseless channel (state [40, 0], full mask, no quantiser; here through
 * float32 packets), the tokenizer, instruction ids, stream wiring and greedy read-out must give the same
 * ids and strings as Python, and reconstruction the same MSE. Fails (does not skip) without the bundle.
 */
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBundleTestdata } from './bundle.js';
import { createSemanticCodec } from './codec.js';
import type { SemanticCodec, Tokens } from './codecTypes.js';
import type { RgbImage } from './image.js';
import { encodeInstruction } from './instruction.js';
import { mse } from './metrics.js';
import { createOperatingPoint } from './operatingPoint.js';
import { encodeText, splitWords, textTokens } from './tokenizer.js';

const BUNDLE =
  process.env.M4SC_BUNDLE_DIR ?? fileURLToPath(new URL('../../../models/default', import.meta.url));

interface Case {
  kind: string;
  task: string;
  seed?: number;
  query?: string;
  instr?: number[];
  outputIds?: number[];
  output?: string;
  mse?: number;
  text?: string;
  words?: string[];
  ids?: number[];
  tokens?: string[];
}

let codec: SemanticCodec;
let cases: Case[];
let images: Map<number, RgbImage>;
const state = { snrDb: 40, lossRate: 0 };
const f32op = createOperatingPoint({ name: 'f32-full', rateSymbols: 1, bits: 32, snrDb: 40 });

beforeAll(async () => {
  codec = await createSemanticCodec({ bundleDir: BUNDLE, ort });
  const dec = new TextDecoder();
  cases = (
    JSON.parse(dec.decode(await readBundleTestdata(BUNDLE, codec.manifest, 'pipeline'))) as { cases: Case[] }
  ).cases;
  const sc = JSON.parse(dec.decode(await readBundleTestdata(BUNDLE, codec.manifest, 'scenes'))) as {
    size: number;
    scenes: { seed: number; rgb: string }[];
  };
  images = new Map(
    sc.scenes.map((s) => [
      s.seed,
      { width: sc.size, height: sc.size, data: new Uint8Array(Buffer.from(s.rgb, 'base64')) },
    ]),
  );
}, 60_000);
afterAll(async () => {
  await codec?.close();
});

/** Noiseless channel through float32 packets: channel_encoder → packets → channel_decoder. */
async function noiseless(tokens: Tokens, stream: 'public' | 'private'): Promise<Tokens> {
  const sym = await codec.channelEncode(tokens, state, stream);
  const op = { ...f32op, rateSymbols: sym.C };
  const rx = codec.depacketize(codec.packetize(sym, op));
  expect(rx.mask.every((m) => m === 1)).toBe(true);
  return codec.channelDecode(rx, state, stream);
}

describe('pipeline reference cases (ONNX in TypeScript vs PyTorch)', () => {
  it('has cases of every kind', () => {
    expect(new Set(cases.map((c) => c.task))).toEqual(
      new Set(['caption', 'answer', 'reconstruct', 'classify', 'transmit']),
    );
  });

  it('builds the same instruction ids', () => {
    for (const c of cases.filter((c) => c.instr)) {
      const instr = codec.parseInstruction({ task: c.task, query: c.query ?? '' });
      expect(Array.from(encodeInstruction(codec.tokenizer, instr), Number)).toEqual(c.instr);
    }
  });

  it('builds the same text ids and words', () => {
    for (const c of cases.filter((c) => c.kind === 'text')) {
      expect(splitWords(c.text!)).toEqual(c.words);
      if (c.tokens) expect(textTokens(codec.tokenizer, c.text!)).toEqual(c.tokens);
      expect(Array.from(encodeText(codec.tokenizer, c.text!), Number)).toEqual(c.ids);
    }
  });

  it('gives the same task outputs (ids and strings) for scene captions and answers', async () => {
    const sceneCases = cases.filter(
      (c) => c.kind === 'scene' && (c.task === 'caption' || c.task === 'answer'),
    );
    expect(sceneCases.length).toBeGreaterThan(0);
    for (const c of sceneCases) {
      // The private stream reads the bundle's private trunk where it has one (as PyTorch's private_source).
      const src = await codec.privateSource(images.get(c.seed!)!);
      const instruction = { task: c.task, query: c.query ?? '' };
      const priv = await noiseless(await codec.privateEncode(src, instruction), 'private');
      const [out] = await codec.decodeTask(priv, instruction);
      expect(out!.ids, `seed ${c.seed} ${c.task}`).toEqual(c.outputIds);
      expect(out!.words.join(' ')).toBe(c.output);
    }
  });

  it('reconstructs scenes with the same MSE (±1 %)', async () => {
    for (const c of cases.filter((c) => c.task === 'reconstruct')) {
      const img = images.get(c.seed!)!;
      const pub = await codec.publicEncode(await codec.encodeImage(img));
      const [out] = await codec.decodeImage(await noiseless(pub, 'public'));
      const got = mse(
        Float32Array.from(img.data, (v) => v / 255),
        out!.data,
      );
      expect(Math.abs(got - c.mse!) / c.mse!).toBeLessThan(0.01);
    }
  });

  it('transmits text with the same output ids and string', async () => {
    for (const c of cases.filter((c) => c.kind === 'text')) {
      const tokens = await codec.publicEncode(await codec.encodeText(c.text!));
      const [out] = await codec.decodeText(await noiseless(tokens, 'public'));
      expect(out!.ids).toEqual(c.outputIds);
      expect(out!.words.join(' ')).toBe(c.output);
    }
  });
});
