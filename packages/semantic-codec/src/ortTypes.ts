/**
 * The slice of the onnxruntime-js API the codec uses. onnxruntime-node and onnxruntime-web both satisfy
 * it, so the caller injects either and the codec has one code path and no runtime dependency on either.
 */

/** A tensor as onnxruntime-js returns it. */
export interface OrtTensorLike {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
  dispose?(): void;
}

/** An inference session. */
export interface OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensorLike>): Promise<Record<string, OrtTensorLike>>;
  release?(): Promise<void>;
}

/** An execution provider: its name, or an object with its name and options. */
export type ExecutionProvider = string | { readonly name: string };

/** Session options passed through to onnxruntime. */
export interface OrtSessionOptions {
  /** Names ('cpu', 'cuda', 'webgpu', …) or provider objects ({ name, …options }). */
  executionProviders?: readonly ExecutionProvider[];
  graphOptimizationLevel?: string;
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
}

/** The onnxruntime-js module (`import * as ort from 'onnxruntime-node'` or `'onnxruntime-web'`). */
export interface OrtLike {
  readonly InferenceSession: {
    create(model: Uint8Array, options?: OrtSessionOptions): Promise<OrtSessionLike>;
  };
  readonly Tensor: new (
    // biome-ignore lint/suspicious/noExplicitAny: onnxruntime's Tensor constructor is a large overload set.
    type: any,
    // biome-ignore lint/suspicious/noExplicitAny: idem.
    data: any,
    dims?: readonly number[],
  ) => OrtTensorLike;
}
