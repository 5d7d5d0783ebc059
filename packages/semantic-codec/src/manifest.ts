/** The `manifest.json` schema of a model bundle (docs/BUNDLE.md), checked with zod. */
import { z } from 'zod';

/** Stage keys of the bundle contract. */
export const STAGE_NAMES = [
  'image_encoder',
  'text_encoder',
  'public_encoder',
  'private_encoder',
  'channel_encoder',
  'channel_decoder',
  'image_decoder',
  'text_decoder',
  'task_decoder',
] as const;
export type StageName = (typeof STAGE_NAMES)[number];

const dim = z.union([z.number().int().nonnegative(), z.string().min(1)]);
const tensorSpec = z.object({ dtype: z.string(), shape: z.array(dim) }).loose();
/** A relative file name inside the bundle: no absolute path, no '..'. */
const fileName = z
  .string()
  .min(1)
  .refine((f) => !f.startsWith('/') && !f.includes('\\') && !f.split('/').includes('..'), {
    message: 'file must be a relative path inside the bundle',
  });

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/i, 'sha256 must be 64 hex digits');

export const stageSpecSchema = z
  .object({
    file: fileName,
    sha256: sha256Hex,
    inputs: z.record(z.string(), tensorSpec),
    outputs: z.record(z.string(), tensorSpec),
  })
  .loose();
export type StageSpec = z.infer<typeof stageSpecSchema>;
export type TensorSpec = z.infer<typeof tensorSpec>;

/** A per-stream channel coder: a stage spec, or the key of one in `stages`. */
const coderRef = z.union([z.string(), stageSpecSchema]);
const streamCoder = z.object({ channel_encoder: coderRef, channel_decoder: coderRef }).loose();
/**
 * The private stream: its own channel coder pair (both or neither), optionally its own image `trunk`
 * (image → tokens) that private_encoder reads instead of the public tokens, and optionally the `imageSize`
 * [width, height] its image tasks were trained at (the codec resamples other sizes to it for them).
 */
const privateStream = z
  .object({
    channel_encoder: coderRef.optional(),
    channel_decoder: coderRef.optional(),
    trunk: coderRef.optional(),
    imageSize: z.tuple([z.number().int().positive(), z.number().int().positive()]).optional(),
  })
  .loose()
  .refine((s) => (s.channel_encoder === undefined) === (s.channel_decoder === undefined), {
    message: 'give both channel_encoder and channel_decoder, or neither',
  });

/**
 * The public image stream's own code (training/image_code.py): an `analysis` stage (image → block
 * coefficients), a `synthesis` stage (coefficients + block grid → image) and the linear channel code between
 * them (`code`: variances and mixing matrices, see imageCode.ts). When present, image samples use it instead
 * of image_encoder → public_encoder → channel coder → image_decoder.
 */
const imageStream = z
  .object({
    analysis: coderRef,
    synthesis: coderRef,
    code: z
      .object({
        file: fileName,
        sha256: sha256Hex,
        kind: z.literal('block-klt'),
        block: z.number().int().positive(),
        coefficients: z.number().int().positive(),
        groups: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().positive()])).min(1),
      })
      .loose(),
  })
  .loose();
export type ImageStreamSpec = z.infer<typeof imageStream>;

export const operatingPointSchema = z
  .object({
    name: z.string().min(1),
    version: z.number().int().nonnegative().optional(),
    rateSymbols: z.number().int().positive(),
    bits: z.number().int().positive(),
    snrDb: z.number().optional(),
    lossRate: z.number().min(0).max(1).optional(),
  })
  .loose();

export const manifestSchema = z
  .object({
    format: z.literal('m4sc-bundle'),
    formatVersion: z.number().int().positive(),
    name: z.string().min(1),
    version: z.string().min(1),
    opset: z.number().int().positive(),
    tasks: z.array(z.string()),
    modalities: z.array(z.string()),
    dims: z
      .object({
        D: z.number().int().positive(),
        C: z.number().int().positive(),
        P: z.number().int().positive(),
        imageStride: z.number().int().positive(),
        imageChannels: z.number().int().positive(),
      })
      .loose(),
    /** tokenizer.json's name and checksum; when absent the loader reads `tokenizer.json` unchecked. */
    tokenizer: z.object({ file: fileName, sha256: sha256Hex }).loose().optional(),
    stages: z.record(z.string(), stageSpecSchema),
    /** Test data shipped with the bundle (e.g. `scenes`), checksummed; loaded only by tests and tools. */
    testdata: z.record(z.string(), z.object({ file: fileName, sha256: sha256Hex }).loose()).optional(),
    streams: z
      .object({
        public: streamCoder.optional(),
        private: privateStream.optional(),
        image: imageStream.optional(),
      })
      .loose()
      .optional(),
    operatingPoints: z.array(operatingPointSchema).default([]),
    kan: z
      .object({
        gridSize: z.number().int().positive(),
        splineOrder: z.number().int().nonnegative(),
        range: z.tuple([z.number(), z.number()]),
      })
      .loose()
      .optional(),
    training: z.unknown().optional(),
    evaluation: z.unknown().optional(),
  })
  .loose();
export type Manifest = z.infer<typeof manifestSchema>;

/** Validates parsed JSON; returns the manifest or a readable list of problems. */
export function parseManifest(
  json: unknown,
): { ok: true; manifest: Manifest } | { ok: false; error: string } {
  const r = manifestSchema.safeParse(json);
  return r.success ? { ok: true, manifest: r.data } : { ok: false, error: z.prettifyError(r.error) };
}
