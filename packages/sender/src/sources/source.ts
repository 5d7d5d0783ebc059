/** What a source hands the sender, one sample at a time. */
export interface SourceSample {
  /** Running index from 0. */
  readonly index: number;
  /** An RGB24 frame (width × height × 3 bytes). */
  readonly image?: { readonly data: Uint8Array; readonly width: number; readonly height: number };
  /** A text sample. */
  readonly text?: string;
  /** What the synthetic source knows about the sample, for checking receivers' results. */
  readonly truth?: {
    readonly seed: number;
    readonly caption: string;
    readonly qa: readonly [string, string][];
  };
}

/** A source of samples. `next()` resolves with `undefined` when a finite source has ended. */
export interface Source {
  /** e.g. `synthetic`, `y4m:clip.y4m`. */
  readonly description: string;
  readonly modality: 'image' | 'text';
  next(): Promise<SourceSample | undefined>;
  close(): void;
}

/** A source that cannot be opened or read: a missing file, an unsupported format. */
export class SourceError extends Error {
  override name = 'SourceError';
}
