/**
 * A fake but runnable bundle that follows docs/BUNDLE.md, for testing the loader and the codec API without
 * the trained model. Stages are exact transforms, so results are predictable:
 * - image tokens are 4×4 pixel blocks (SpaceToDepth), D = 48, and the decoder inverts them exactly;
 * - text/instruction tokens are one-hot embeddings, decoded by a transposed matmul;
 * - the channel coder is the identity (decoder multiplies by the mask);
 * - private = the first P instruction embeddings; the task decoder reads them back, so a task's output is
 *   the instruction's own `<task:…> <mod:…> <out:…>` tokens.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOnnx, type ModelSpec, type ValueSpec } from './onnxBuilder.js';

export const FAKE = { D: 48, C: 48, P: 4, stride: 4, Li: 12, L: 8 } as const;
const specials = ['<pad>', '<bos>', '<eos>', '<unk>'];
export const FAKE_INSTRUCTION_VOCAB = [
  ...specials,
  '<task:reconstruct>',
  '<task:classify>',
  '<task:caption>',
  '<task:answer>',
  '<task:transmit>',
  '<mod:image>',
  '<mod:text>',
  '<out:image>',
  '<out:label>',
  '<out:text>',
  'what',
  'colour',
  'is',
  'the',
  'circle',
  '?',
];
export const FAKE_TEXT_VOCAB = [...specials, 'hello', 'world', 'red', 'circle', ',', '.', '!'];

const f = (name: string, shape: (number | string)[]): ValueSpec => ({ name, elemType: 'float32', shape });
const i64 = (name: string, shape: (number | string)[]): ValueSpec => ({ name, elemType: 'int64', shape });

function oneHot(rows: number, cols: number, transpose = false): Float32Array {
  const m = new Float32Array(rows * cols);
  for (let r = 0; r < Math.min(rows, cols); r++) m[transpose ? r * rows + r : r * cols + r] = 1;
  return m;
}

const { D, P, stride: s } = FAKE;
const Vi = FAKE_INSTRUCTION_VOCAB.length;
const Vt = FAKE_TEXT_VOCAB.length;

export const FAKE_MODELS: Record<string, ModelSpec> = {
  image_encoder: {
    inputs: [f('image', ['B', 3, 'H', 'W'])],
    outputs: [f('tokens', ['B', 'N', D])],
    initializers: [{ name: 'shp', dims: [3], data: BigInt64Array.from([0n, BigInt(D), -1n]) }],
    nodes: [
      { op: 'SpaceToDepth', inputs: ['image'], outputs: ['s2d'], attrs: { blocksize: s } },
      { op: 'Reshape', inputs: ['s2d', 'shp'], outputs: ['flat'] },
      { op: 'Transpose', inputs: ['flat'], outputs: ['tokens'], attrs: { perm: [0, 2, 1] } },
    ],
  },
  image_decoder: {
    inputs: [f('tokens', ['B', 'N', D]), i64('grid', [2])],
    outputs: [f('image', ['B', 3, 'H', 'W'])],
    initializers: [{ name: 'head', dims: [2], data: BigInt64Array.from([0n, BigInt(D)]) }],
    nodes: [
      { op: 'Transpose', inputs: ['tokens'], outputs: ['t'], attrs: { perm: [0, 2, 1] } },
      { op: 'Concat', inputs: ['head', 'grid'], outputs: ['shp'], attrs: { axis: 0 } },
      { op: 'Reshape', inputs: ['t', 'shp'], outputs: ['x'] },
      { op: 'DepthToSpace', inputs: ['x'], outputs: ['image'], attrs: { blocksize: s, mode: 'DCR' } },
    ],
  },
  text_encoder: {
    inputs: [i64('ids', ['B', 'L'])],
    outputs: [f('tokens', ['B', 'L', D])],
    initializers: [{ name: 'E', dims: [Vt, D], data: oneHot(Vt, D) }],
    nodes: [{ op: 'Gather', inputs: ['E', 'ids'], outputs: ['tokens'] }],
  },
  text_decoder: {
    inputs: [f('tokens', ['B', 'L', D])],
    outputs: [f('logits', ['B', 'L', Vt])],
    initializers: [{ name: 'Et', dims: [D, Vt], data: oneHot(D, Vt) }],
    nodes: [{ op: 'MatMul', inputs: ['tokens', 'Et'], outputs: ['logits'] }],
  },
  public_encoder: {
    inputs: [f('tokens', ['B', 'T', D])],
    outputs: [f('public', ['B', 'T', D])],
    nodes: [{ op: 'Identity', inputs: ['tokens'], outputs: ['public'] }],
  },
  private_encoder: {
    inputs: [f('public', ['B', 'T', D]), i64('instr', ['B', 'Li'])],
    outputs: [f('private', ['B', P, D])],
    initializers: [
      { name: 'EI', dims: [Vi, D], data: oneHot(Vi, D) },
      { name: 'st', dims: [1], data: BigInt64Array.from([0n]) },
      { name: 'en', dims: [1], data: BigInt64Array.from([BigInt(P)]) },
      { name: 'ax', dims: [1], data: BigInt64Array.from([1n]) },
    ],
    nodes: [
      { op: 'Gather', inputs: ['EI', 'instr'], outputs: ['e'] },
      { op: 'Slice', inputs: ['e', 'st', 'en', 'ax'], outputs: ['private'] },
    ],
  },
  task_decoder: {
    inputs: [f('private', ['B', P, D]), i64('instr', ['B', 'Li'])],
    outputs: [f('logits', ['B', P, Vi])],
    initializers: [{ name: 'EO', dims: [D, Vi], data: oneHot(D, Vi) }],
    nodes: [{ op: 'MatMul', inputs: ['private', 'EO'], outputs: ['logits'] }],
  },
  channel_encoder: {
    inputs: [f('tokens', ['B', 'T', D]), f('state', ['B', 2])],
    outputs: [f('symbols', ['B', 'T', FAKE.C])],
    nodes: [{ op: 'Identity', inputs: ['tokens'], outputs: ['symbols'] }],
  },
  channel_decoder: {
    inputs: [f('symbols', ['B', 'T', FAKE.C]), f('mask', ['B', 'T', FAKE.C]), f('state', ['B', 2])],
    outputs: [f('tokens', ['B', 'T', D])],
    nodes: [{ op: 'Mul', inputs: ['symbols', 'mask'], outputs: ['tokens'] }],
  },
};

/** A private trunk (`streams.private.trunk`): image_encoder's tokens times 2, so its use shows. */
export const FAKE_TRUNK: ModelSpec = {
  ...FAKE_MODELS.image_encoder!,
  initializers: [
    ...(FAKE_MODELS.image_encoder!.initializers ?? []),
    { name: 'two', dims: [1], data: Float32Array.from([2]) },
  ],
  nodes: [
    ...FAKE_MODELS.image_encoder!.nodes.map((n) =>
      n.outputs[0] === 'tokens' ? { ...n, outputs: ['tokens1'] } : n,
    ),
    { op: 'Mul', inputs: ['tokens1', 'two'], outputs: ['tokens'] },
  ],
};

/** A `writeFakeBundle` mutation adding `model` as the private stream's trunk (private_trunk.onnx). */
export function addFakeTrunk(model: ModelSpec = FAKE_TRUNK) {
  return (m: Record<string, unknown>, files: Map<string, Uint8Array>): void => {
    const bytes = buildOnnx(model);
    files.set('private_trunk.onnx', bytes);
    m.streams = {
      private: {
        trunk: {
          file: 'private_trunk.onnx',
          sha256: createHash('sha256').update(bytes).digest('hex'),
          inputs: spec(model.inputs),
          outputs: spec(model.outputs),
        },
      },
    };
  };
}

const spec = (vs: ValueSpec[]) =>
  Object.fromEntries(vs.map((v) => [v.name, { dtype: v.elemType, shape: v.shape }]));

/** Writes the fake bundle into `dir`; `mutate` may edit the manifest or the files before writing. */
export function writeFakeBundle(
  dir: string,
  mutate?: (m: Record<string, unknown>, files: Map<string, Uint8Array>) => void,
): void {
  mkdirSync(dir, { recursive: true });
  const files = new Map<string, Uint8Array>();
  const stages: Record<string, unknown> = {};
  for (const [name, model] of Object.entries(FAKE_MODELS)) {
    const bytes = buildOnnx(model);
    files.set(`${name}.onnx`, bytes);
    stages[name] = {
      file: `${name}.onnx`,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      inputs: spec(model.inputs),
      outputs: spec(model.outputs),
    };
  }
  const manifest: Record<string, unknown> = {
    format: 'm4sc-bundle',
    formatVersion: 1,
    name: 'fake',
    version: '0.0.1',
    opset: 17,
    tasks: ['reconstruct', 'classify', 'caption', 'answer', 'transmit'],
    modalities: ['image', 'text'],
    dims: { D, C: FAKE.C, P, imageStride: s, imageChannels: 3 },
    stages,
    operatingPoints: [{ name: 'q8-full', rateSymbols: FAKE.C, bits: 8 }],
  };
  files.set(
    'tokenizer.json',
    new TextEncoder().encode(
      JSON.stringify({
        instruction: { vocab: FAKE_INSTRUCTION_VOCAB, maxLen: FAKE.Li },
        text: { vocab: FAKE_TEXT_VOCAB, maxLen: FAKE.L, lowercase: true, split: 'words-and-punct' },
        output: { vocab: FAKE_INSTRUCTION_VOCAB, maxLen: P },
      }),
    ),
  );
  mutate?.(manifest, files);
  files.set('manifest.json', new TextEncoder().encode(JSON.stringify(manifest, null, 1)));
  for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);
}
