import { describe, expect, it } from 'vitest';
import { AgeWindow, LinkMonitor, LossEstimator, percentile } from './linkMonitor.js';

const extras = {
  bufferedAmountBytes: { control: 0, public: 10, private: 0 },
  queuedBytes: { control: 0, public: 0, private: 0 },
  drops: { stale: 0, late: 0, duplicate: 0, malformed: 2, backpressure: 1 },
  sendDroppedSamples: { backpressure: 1, stale: 0 },
  controlRejected: 0,
  samplesComplete: 3,
  samplesIncomplete: 0,
  faultDrops: { packets: 0, samples: 0 },
};

describe('link monitor', () => {
  it('measures loss from packet sequence gaps, per interval', () => {
    const l = new LossEstimator();
    for (const p of [10, 11, 13, 14]) l.observe(p);
    expect(l.closeInterval()).toBeCloseTo(1 / 5);
    for (const p of [16, 15]) l.observe(p); // reordered within the interval: no loss
    expect(l.closeInterval()).toBe(0);
    expect(l.closeInterval()).toBeUndefined();
    expect(l.lostPackets).toBe(1);
  });

  it('computes nearest-rank percentiles', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 95)).toBe(95);
    const a = new AgeWindow();
    for (const v of [5, 1, 3]) a.add(v);
    expect(a.closeInterval()).toEqual({ p50Ms: 3, p95Ms: 5, count: 3 });
    expect(a.closeInterval()).toBeUndefined();
  });

  it('turns counters into rates and keeps the clock offset of the fastest pong', () => {
    const m = new LinkMonitor(0);
    m.onSent('public', 1000);
    m.onReceived('control', 500);
    m.onPong(100, 1150, 120); // rtt 20, offset 1040
    m.onPong(200, 1300, 300); // rtt 100, offset 1050
    const s = m.snapshot(500, extras);
    expect(s.channels.public.sentBytesPerSec).toBe(2000);
    expect(s.receivedBytesPerSec).toBe(1000);
    expect(s.rttMs).toBe(100);
    expect(s.clockOffsetMs).toBe(1040);
    expect(s.drops.malformed).toBe(2);
    expect(m.snapshot(1000, extras).sentBytesPerSec).toBe(0);
  });
});

describe('AgeWindow', () => {
  it('reports a slightly negative age (clock-offset error) as 0 and skips non-finite ones, so the report stays valid', () => {
    const w = new AgeWindow();
    for (const a of [-3, -1, 5, Number.NaN, Number.POSITIVE_INFINITY]) w.add(a);
    const s = w.closeInterval()!;
    expect(s.count).toBe(3);
    expect(s.p50Ms).toBe(0);
    expect(s.p95Ms).toBe(5);
    expect(w.closeInterval()).toBeUndefined();
  });
});
