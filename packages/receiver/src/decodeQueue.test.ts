import type { ReassembledSample } from '@m4sc/transport';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDecodeQueue } from './decodeQueue.js';
import { emptyDropCounters } from './receiverTypes.js';

/** Layer k of n of public sample `seq`, as the reassembler hands it over (`op.ly/ln` name the layer). */
const layer = (seq: number, k: number, n: number): ReassembledSample =>
  ({
    seq,
    stream: k === 0 ? 'public' : `public.${k}`,
    op: { ly: k, ls: k * 4, ln: n },
    packets: [new Uint8Array(8)],
    count: 1,
    received: 1,
    ageMs: 5,
  }) as unknown as ReassembledSample;

function setup() {
  const dropped = emptyDropCounters();
  const decoded: { seq: number; layers: number[] }[] = [];
  const warnings: string[] = [];
  const q = createDecodeQueue({
    async decode(sample, _receivedAt, layers) {
      decoded.push({ seq: sample.seq, layers: (layers ?? [sample]).map((l) => (l.op as { ly: number }).ly) });
      return {
        seq: sample.seq,
        stream: sample.stream,
        op: sample.op,
        packets: 1,
        lostPackets: 0,
        recoveredPackets: 0,
        arrivalAgeMs: 0,
        task: 'reconstruct',
        decodeMs: 1,
        latencyMs: 1,
      } as never;
    },
    isServed: () => false,
    receiverClosed: () => false,
    dropped,
    warn: (kind) => warnings.push(kind),
  });
  return { q, dropped, decoded, warnings };
}

describe('decode queue: layered public samples', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('decodes a sample as soon as all its layers are in, in layer order', async () => {
    const { q, decoded } = setup();
    q.push(layer(1, 2, 3));
    q.push(layer(1, 0, 3));
    expect(decoded).toEqual([]);
    q.push(layer(1, 1, 3));
    await vi.advanceTimersByTimeAsync(0);
    expect(decoded).toEqual([{ seq: 1, layers: [0, 1, 2] }]);
    expect(q.layerHoldMs).toBe(60);
  });

  it('a missing layer costs the hold, then the sample decodes with what came', async () => {
    const { q, decoded } = setup();
    q.push(layer(1, 0, 2));
    await vi.advanceTimersByTimeAsync(59);
    expect(decoded).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(decoded).toEqual([{ seq: 1, layers: [0] }]);
  });

  it('a layer later than the hold is dropped and counted (never a second result), and the hold grows to the skew seen', async () => {
    const { q, decoded, dropped, warnings } = setup();
    q.push(layer(1, 0, 2));
    await vi.advanceTimersByTimeAsync(100);
    q.push(layer(1, 1, 2)); // 100 ms late: its sample was decoded from the base at 60 ms
    await vi.advanceTimersByTimeAsync(0);
    expect(decoded).toEqual([{ seq: 1, layers: [0] }]);
    expect(dropped['late-layer']).toBe(1);
    expect(warnings).toEqual(['late-layer']);
    // 1.5 × 100 + 10 ms: the next sample's enhancement, as late, is waited for.
    expect(q.layerHoldMs).toBe(160);
    q.push(layer(2, 0, 2));
    await vi.advanceTimersByTimeAsync(100);
    q.push(layer(2, 1, 2));
    await vi.advanceTimersByTimeAsync(0);
    expect(decoded.at(-1)).toEqual({ seq: 2, layers: [0, 1] });
    expect(dropped['late-layer']).toBe(1);
  });

  it('the hold is capped, and shrinks back once the layers come together again', async () => {
    const { q, decoded } = setup();
    q.push(layer(1, 0, 2));
    await vi.advanceTimersByTimeAsync(1_000);
    q.push(layer(1, 1, 2));
    expect(q.layerHoldMs).toBe(250);
    for (let seq = 2; seq < 40; seq++) {
      q.push(layer(seq, 0, 2));
      await vi.advanceTimersByTimeAsync(2);
      q.push(layer(seq, 1, 2));
    }
    await vi.advanceTimersByTimeAsync(0);
    expect(decoded.length).toBe(39);
    expect(q.layerHoldMs).toBe(60);
  });

  it('a layer whose sample was forgotten (link reset) starts a new sample', async () => {
    const { q, decoded, dropped } = setup();
    q.push(layer(1, 0, 2));
    await vi.advanceTimersByTimeAsync(60);
    q.clearLayers();
    q.push(layer(1, 0, 2));
    q.push(layer(1, 1, 2));
    await vi.advanceTimersByTimeAsync(0);
    expect(decoded).toEqual([
      { seq: 1, layers: [0] },
      { seq: 1, layers: [0, 1] },
    ]);
    expect(dropped['late-layer']).toBe(0);
  });
});
