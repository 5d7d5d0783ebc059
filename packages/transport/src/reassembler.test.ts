import { describe, expect, it } from 'vitest';
import { MAX_STREAMS_PER_CHANNEL } from './defaults.js';
import { Reassembler } from './reassembler.js';
import type { Frame } from './types.js';

const T0 = 1_000_000;
const pkt = (seq: number, index: number, count: number, over: Partial<Frame> = {}): Frame => ({
  stream: 'public',
  pseq: 0,
  seq,
  index,
  count,
  captureTsMs: T0,
  op: { rate: 8 },
  payload: new Uint8Array([seq, index]),
  ...over,
});

describe('Reassembler', () => {
  it('emits a sample as soon as its last packet arrives, in any order', () => {
    const r = new Reassembler({ channel: 'public' });
    expect(r.process(pkt(1, 2, 3), T0 + 5)).toEqual([]);
    expect(r.process(pkt(1, 0, 3), T0 + 6)).toEqual([]);
    const [s] = r.process(pkt(1, 1, 3), T0 + 7);
    expect(s).toMatchObject({
      channel: 'public',
      seq: 1,
      complete: true,
      received: 3,
      count: 3,
      firstArrivalMs: T0 + 5,
      ageMs: 7,
    });
    expect(s!.packets.map((p) => p![1])).toEqual([0, 1, 2]);
  });

  it('emits with holes after the reassembly deadline', () => {
    const r = new Reassembler({ channel: 'private', reassemblyTimeoutMs: 100 });
    r.process(pkt(1, 0, 3), T0);
    r.process(pkt(1, 2, 3), T0 + 10);
    expect(r.tick(T0 + 99)).toEqual([]);
    const [s] = r.tick(T0 + 100);
    expect(s).toMatchObject({ seq: 1, complete: false, received: 2 });
    expect(s!.packets[1]).toBeUndefined();
    expect(r.pendingCount).toBe(0);
  });

  it('never lets a lost packet stall later samples', () => {
    const r = new Reassembler({ channel: 'public', newerSamplesFlush: 4 });
    r.process(pkt(1, 0, 2), T0); // packet 1 of sample 1 is lost
    const out: number[] = [];
    for (let seq = 2; seq <= 5; seq++) for (const s of r.process(pkt(seq, 0, 1), T0 + seq)) out.push(s.seq);
    // 2, 3, 4 complete at once; sample 1 goes out with a hole when sample 5 (1 + 4) arrives.
    expect(out).toEqual([2, 3, 4, 1, 5]);
    expect(r.counters).toMatchObject({ complete: 4, incomplete: 1 });
  });

  it('emits a sample with holes once a newer one has begun and its own packets stopped holeGraceMs ago', () => {
    const r = new Reassembler({ channel: 'public', holeGraceMs: 30 });
    r.process(pkt(1, 0, 3), T0); // packets 1 and 2 of sample 1 are lost
    expect(r.process(pkt(2, 0, 2), T0 + 10)).toEqual([]); // sample 2 begins, but only 10 ms after sample 1's last
    expect(r.tick(T0 + 29)).toEqual([]);
    const [s] = r.tick(T0 + 30);
    expect(s).toMatchObject({ seq: 1, complete: false, received: 1 });
    // Sample 2 lost its second packet; sample 3 begins a frame interval later: 2 goes out at once, before 3.
    const out = r.process(pkt(3, 0, 1), T0 + 77);
    expect(out.map((x) => [x.seq, x.complete])).toEqual([
      [2, false],
      [3, true],
    ]);
    // Without a newer sample only the deadline emits it.
    r.process(pkt(4, 0, 2), T0 + 100);
    expect(r.tick(T0 + 249)).toEqual([]);
    expect(r.tick(T0 + 250)).toHaveLength(1);
  });

  it('widens the hole grace when a packet it called lost arrives after all, and narrows it back slowly', () => {
    const r = new Reassembler({ channel: 'public', holeGraceMs: 30 });
    r.process(pkt(1, 0, 2), T0);
    expect(r.process(pkt(2, 0, 2), T0 + 40).map((x) => x.seq)).toEqual([1]);
    expect(r.process(pkt(1, 1, 2), T0 + 50)).toEqual([]); // reordered by 50 ms, not lost
    expect(r.counters.late).toBe(1);
    expect(r.holeGraceMs).toBe(75);
    // Sample 2 now waits 75 ms after its last packet for the rest, then goes out; each such emission narrows the grace by 2%.
    r.process(pkt(3, 0, 1), T0 + 100);
    expect(r.tick(T0 + 114)).toEqual([]);
    expect(r.tick(T0 + 115).map((x) => x.seq)).toEqual([2]);
    expect(r.holeGraceMs).toBeCloseTo(73.5);
    expect(() => new Reassembler({ channel: 'public', holeGraceMs: 0 })).toThrow(TypeError);
  });

  it('drops and counts late packets of an emitted sample and duplicates', () => {
    const r = new Reassembler({ channel: 'public', reassemblyTimeoutMs: 50 });
    r.process(pkt(1, 0, 2), T0);
    r.process(pkt(1, 0, 2), T0 + 1);
    expect(r.tick(T0 + 60)).toHaveLength(1);
    expect(r.process(pkt(1, 1, 2), T0 + 70)).toEqual([]);
    expect(r.counters).toMatchObject({ late: 1, duplicate: 1, incomplete: 1 });
  });

  it('drops samples older than maxAgeMs, corrected by the clock offset', () => {
    const r = new Reassembler({ channel: 'public', maxAgeMs: 500 });
    expect(r.process(pkt(1, 0, 1), T0 + 501)).toEqual([]);
    expect(r.counters.stale).toBe(1);
    r.clockOffsetMs = -100; // the remote clock is 100 ms behind: this packet is 401 ms old
    expect(r.process(pkt(2, 0, 1), T0 + 501)).toHaveLength(1);
  });

  it('lists the samples it dropped packets of for their age: whole on arrival, or pending past the limit', () => {
    const r = new Reassembler({ channel: 'public', maxAgeMs: 500, reassemblyTimeoutMs: 400 });
    r.process(pkt(1, 0, 2), T0 + 501); // stale on arrival
    r.process(pkt(1, 1, 2), T0 + 502); // the same sample again: listed once
    expect(r.process(pkt(2, 0, 2, { stream: 'shared:ab' }), T0 + 300)).toEqual([]);
    expect(r.tick(T0 + 700)).toEqual([]); // its deadline came after it had aged past 500 ms: dropped, not emitted
    expect(r.process(pkt(3, 0, 1), T0 + 100)).toHaveLength(1);
    expect(r.staleSamples()).toEqual([
      { stream: 'public', seq: 1 },
      { stream: 'shared:ab', seq: 2 },
    ]);
    expect(r.counters.stale).toBe(3);
  });

  it('counts a packet that contradicts its sample header as malformed', () => {
    const r = new Reassembler({ channel: 'public' });
    r.process(pkt(1, 0, 3), T0);
    expect(r.process(pkt(1, 1, 4), T0)).toEqual([]);
    expect(r.counters.malformed).toBe(1);
  });

  it('keeps streams apart', () => {
    const r = new Reassembler({ channel: 'private' });
    r.process(pkt(1, 0, 2, { stream: 'private:a' }), T0);
    const [s] = r.process(pkt(1, 1, 2, { stream: 'private:b' }), T0);
    expect(s).toBeUndefined();
    expect(r.pendingCount).toBe(2);
  });

  it('beyond MAX_STREAMS_PER_CHANNEL forgets the least recently used stream, emitting its pending samples with holes', () => {
    const r = new Reassembler({ channel: 'private' });
    r.process(pkt(7, 0, 2, { stream: 'private:old' }), T0);
    const out: ReturnType<Reassembler['process']> = [];
    for (let k = 0; k < MAX_STREAMS_PER_CHANNEL; k++)
      out.push(...r.process(pkt(1, 0, 2, { stream: `private:s${k}` }), T0 + k));
    // The 16th new stream pushed 'private:old' out: its half sample went out, counted, not dropped.
    expect(out.map((s) => [s.stream, s.seq, s.complete])).toEqual([['private:old', 7, false]]);
    expect(r.counters.incomplete).toBe(1);
    expect(r.pendingCount).toBe(MAX_STREAMS_PER_CHANNEL);
  });

  it('bounds the pending samples per stream', () => {
    const r = new Reassembler({ channel: 'public', maxPendingSamples: 3, newerSamplesFlush: 1000 });
    const out = [1, 2, 3, 4].flatMap((seq) => r.process(pkt(seq, 0, 2), T0));
    expect(out.map((s) => s.seq)).toEqual([1]);
    expect(r.pendingCount).toBe(3);
  });

  it('rejects bad options', () => {
    expect(() => new Reassembler({ channel: 'control' as 'public' })).toThrow(TypeError);
    expect(() => new Reassembler({ channel: 'public', maxAgeMs: 0 })).toThrow(TypeError);
  });
});
