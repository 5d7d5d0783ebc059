/**
 * Node-only entry (`@m4sc/semantic-codec/node`): the codec with onnxruntime-node injected. Everything
 * else is in the main entry, which imports no onnxruntime and also runs in browsers (onnxruntime-web).
 */
import { createSemanticCodec } from './codec.js';
import type { SemanticCodec, SemanticCodecOptions } from './codecTypes.js';
import type { OrtLike } from './ortTypes.js';

/** Loads onnxruntime-node (an optional peer dependency). */
export async function loadOrtNode(): Promise<OrtLike> {
  const mod = (await import('onnxruntime-node')) as unknown as OrtLike & { default?: OrtLike };
  return mod.InferenceSession ? mod : (mod.default as OrtLike);
}

/** `createSemanticCodec` with onnxruntime-node as the runtime unless `ort` is given. */
export async function createNodeSemanticCodec(
  options: Omit<SemanticCodecOptions, 'ort'> & { ort?: OrtLike },
): Promise<SemanticCodec> {
  return createSemanticCodec({ ...options, ort: options.ort ?? (await loadOrtNode()) });
}
