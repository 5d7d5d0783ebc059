/**
 * The TypeScript reference KAN against the training code's exported layer
 * (test/data/kan/, written by training/export_kan.py): same weights, same outputs, and the same outputs
 * as kan.onnx run through onnxruntime. Fails (does not skip) when the data is missing.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { kanGrid, kanLayerForward } from './kan.js';

const dir = fileURLToPath(new URL('../test/data/kan/', import.meta.url));

interface KanJson {
  inFeatures: number;
  outFeatures: number;
  gridSize: number;
  splineOrder: number;
  range: [number, number];
  grid: number[][];
  baseWeight: number[][];
  splineWeight: number[][][];
  cases: { x: number[]; y: number[] }[];
  tolerance: number;
}

const doc = JSON.parse(readFileSync(`${dir}kan.json`, 'utf8')) as KanJson;
const layer = {
  inFeatures: doc.inFeatures,
  outFeatures: doc.outFeatures,
  gridSize: doc.gridSize,
  splineOrder: doc.splineOrder,
  range: doc.range,
  baseWeight: doc.baseWeight.flat(),
  splineWeight: doc.splineWeight.flat(2),
};

describe('reference KAN vs the exported training layer', () => {
  it('builds the same knots as training (to float32 precision)', () => {
    const g = kanGrid(doc.gridSize, doc.splineOrder, doc.range);
    for (const row of doc.grid) {
      for (const [m, t] of row.entries()) expect(t).toBeCloseTo(g[m]!, 6);
    }
  });

  it('reproduces kan.json outputs within its tolerance (uniform grid and exported grid)', () => {
    expect(doc.cases.length).toBeGreaterThan(0);
    for (const grid of [undefined, doc.grid.flat()]) {
      const y = kanLayerForward(
        { ...layer, ...(grid ? { grid } : {}) },
        doc.cases.flatMap((c) => c.x),
      );
      doc.cases.forEach((c, r) => {
        for (const [o, v] of c.y.entries())
          expect(Math.abs(y[r * doc.outFeatures + o]! - v)).toBeLessThan(doc.tolerance);
      });
    }
  });

  it('matches kan.onnx run through onnxruntime on fresh inputs', async () => {
    const session = await ort.InferenceSession.create(readFileSync(`${dir}kan.onnx`));
    const n = 64;
    const x = Float32Array.from({ length: n * doc.inFeatures }, (_, i) => Math.sin(i * 1.7) * 2.6);
    const out = await session.run({ x: new ort.Tensor('float32', x, [n, doc.inFeatures]) });
    const want = out.y!.data as Float32Array;
    const got = kanLayerForward({ ...layer, grid: doc.grid.flat() }, x);
    let maxErr = 0;
    for (let i = 0; i < want.length; i++) maxErr = Math.max(maxErr, Math.abs(want[i]! - got[i]!));
    expect(maxErr).toBeLessThan(1e-4);
    await session.release();
  });
});
