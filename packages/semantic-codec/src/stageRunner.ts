/** Running one bundle stage: host tensors in and out, chunked when the model fixes its batch size. */
import type { Stage } from './bundle.js';
import { UnsupportedError } from './errors.js';
import type { OrtLike, OrtTensorLike } from './ortTypes.js';

/** A tensor on the host side. */
export interface Host {
  readonly type: 'float32' | 'int64';
  readonly data: Float32Array | BigInt64Array;
  readonly dims: readonly number[];
}

export function f32(data: Float32Array, dims: readonly number[]): Host {
  return { type: 'float32', data, dims };
}

export function i64(data: BigInt64Array, dims: readonly number[]): Host {
  return { type: 'int64', data, dims };
}

/** Index of the largest value in each of `rows` rows of width V. */
export function argmaxRows(logits: Float32Array, rows: number, V: number): number[] {
  const ids: number[] = [];
  for (let r = 0; r < rows; r++) {
    let best = 0;
    let bv = Number.NEGATIVE_INFINITY;
    for (let v = 0; v < V; v++) {
      const x = logits[r * V + v]!;
      if (x > bv) {
        bv = x;
        best = v;
      }
    }
    ids.push(best);
  }
  return ids;
}

/**
 * Runs `stage` on `feeds` (inputs whose first dim is B, except `grid`, are the batch), in chunks when the
 * manifest fixes the batch dimension below B; outputs are concatenated along axis 0. A failing run throws
 * UnsupportedError naming the stage, with the onnxruntime error as `cause`.
 */
export async function runStage(
  ort: OrtLike,
  stage: Stage,
  feeds: Record<string, Host>,
  B: number,
): Promise<Record<string, Host>> {
  const first = Object.values(stage.spec.inputs)[0]?.shape[0];
  const maxB = typeof first === 'number' && first > 0 ? first : B;
  const chunks: Record<string, OrtTensorLike>[] = [];
  const { Tensor } = ort;
  for (let b0 = 0; b0 < B; b0 += maxB) {
    const nb = Math.min(maxB, B - b0);
    const ortFeeds: Record<string, OrtTensorLike> = {};
    for (const [k, h] of Object.entries(feeds)) {
      const batched = k !== 'grid' && h.dims[0] === B;
      if (batched && nb !== B) {
        const per = h.data.length / B;
        const data = h.data.slice(b0 * per, (b0 + nb) * per);
        ortFeeds[k] = new Tensor(h.type, data, [nb, ...h.dims.slice(1)]);
      } else {
        ortFeeds[k] = new Tensor(h.type, h.data, h.dims);
      }
    }
    try {
      chunks.push(await stage.run(ortFeeds));
    } catch (e) {
      throw new UnsupportedError(
        `stage ${stage.name} failed: ${e instanceof Error ? e.message : String(e)}`,
        {
          cause: e,
        },
      );
    }
  }
  const out: Record<string, Host> = {};
  for (const k of Object.keys(chunks[0] ?? {})) {
    const parts = chunks.map((c) => c[k]!);
    const dims = [...parts[0]!.dims];
    dims[0] = parts.reduce((s, p) => s + p.dims[0]!, 0);
    const type = parts[0]!.type === 'int64' ? 'int64' : 'float32';
    if (parts.length === 1) {
      out[k] = { type, data: parts[0]!.data as Float32Array, dims };
    } else {
      const total = parts.reduce((s, p) => s + (p.data as Float32Array).length, 0);
      const data = type === 'int64' ? new BigInt64Array(total) : new Float32Array(total);
      let o = 0;
      for (const p of parts) {
        (data as Float32Array).set(p.data as Float32Array, o);
        o += (p.data as Float32Array).length;
      }
      out[k] = { type, data, dims };
    }
  }
  return out;
}
