import { describe, expect, it } from 'vitest';
import { ControlSendQueue, SampleSendQueue } from './sendQueue.js';
import type { SampleInput } from './types.js';

const sample = (seq: number, packets: number, bytes = 100, captureTsMs = 0): SampleInput => ({
  seq,
  captureTsMs,
  op: {},
  packets: Array.from({ length: packets }, () => new Uint8Array(bytes)),
});

describe('SampleSendQueue', () => {
  it('hands out packets in order, sample by sample', () => {
    const q = new SampleSendQueue();
    q.push(sample(1, 2));
    q.push(sample(2, 1));
    const got = [q.shift(0), q.shift(0), q.shift(0), q.shift(0)].map(
      (p) => p && `${p.seq}.${p.index}/${p.count}`,
    );
    expect(got).toEqual(['1.0/2', '1.1/2', '2.0/1', undefined]);
    expect(q.queuedBytes).toBe(0);
  });

  it('drops the oldest whole samples when full, never a started one', () => {
    const q = new SampleSendQueue({ maxSamples: 2, maxBytes: 10_000 });
    q.push(sample(1, 3));
    q.shift(0); // sample 1 has started
    q.push(sample(2, 1));
    expect(q.push(sample(3, 1))).toBe(1); // sample 2 goes, not the rest of 1
    const seqs = [q.shift(0), q.shift(0), q.shift(0)].map((p) => p?.seq);
    expect(seqs).toEqual([1, 1, 3]);
    expect(q.droppedBackpressure).toBe(1);
  });

  it('drops by bytes too, but always keeps the newest sample', () => {
    const q = new SampleSendQueue({ maxBytes: 250 });
    q.push(sample(1, 2));
    q.push(sample(2, 2));
    expect(q.length).toBe(1);
    q.push(sample(3, 5)); // alone over the limit: kept
    expect(q.length).toBe(1);
    expect(q.shift(0)?.seq).toBe(3);
  });

  it('drops samples that went stale while waiting', () => {
    const q = new SampleSendQueue({ maxAgeMs: 100 });
    q.push(sample(1, 1, 10, 0));
    q.push(sample(2, 1, 10, 150));
    expect(q.shift(200)?.seq).toBe(2);
    expect(q.droppedStale).toBe(1);
  });
});

describe('ControlSendQueue', () => {
  it('refuses messages beyond its bound and lets internal ones jump the queue', () => {
    const q = new ControlSendQueue({ maxMessages: 2 });
    expect(q.push(new Uint8Array([1]))).toBe(true);
    expect(q.push(new Uint8Array([2]))).toBe(true);
    expect(q.push(new Uint8Array([3]))).toBe(false);
    q.pushUrgent(new Uint8Array([9]));
    expect([q.shift(), q.shift(), q.shift(), q.shift()].map((m) => m?.[0])).toEqual([9, 1, 2, undefined]);
  });
});
