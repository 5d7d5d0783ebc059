import { describe, expect, it } from 'vitest';
import {
  AgeWindow,
  LinkMonitor,
  LossEstimator,
  PacketCount,
  percentile,
  QueueTrend,
  ReportWindow,
  SentLog,
  StallWatch,
} from './linkMonitor.js';

const extras = {
  bufferedAmountBytes: { control: 0, public: 10, private: 0 },
  queuedBytes: { control: 0, public: 0, private: 0 },
  drops: { stale: 0, late: 0, duplicate: 0, malformed: 2, backpressure: 1 },
  sendDroppedSamples: { backpressure: 1, stale: 0 },
  controlRejected: 0,
  samplesComplete: 3,
  samplesIncomplete: 0,
  faultDrops: { packets: 0, samples: 0 },
  earlyReports: { sent: 0, received: 0 },
  hostStalls: { count: 0, maxMs: 0, unmeasuredSamples: 0, intervalMaxMs: 0 },
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

  it('counts numbered packets that never came, samples lost whole included; a new run is not a loss', () => {
    const c = new PacketCount();
    expect(c.totals()).toEqual({ expected: 0, lost: 0 });
    for (const p of [101, 100, 102, 102, 106]) c.observe(p); // 100 came late, 102 twice, 103-105 lost whole
    expect(c.totals()).toEqual({ expected: 7, lost: 3 });
    c.restart(); // a new subscription: the gap to it is not counted
    for (const p of [200, 201]) c.observe(p);
    expect(c.totals()).toEqual({ expected: 9, lost: 3 });
    for (const p of [0, 2]) c.observe(p); // the sender restarted: numbers from 0 again
    expect(c.totals()).toEqual({ expected: 12, lost: 4 });
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

describe('QueueTrend', () => {
  // 15 fps, 4 KB samples. Before t = 1000 the path carries them at once (age 40 ms); then it falls to 25 KB/s:
  // each sample takes 160 ms to cross, so sample k after the drop arrives at 1000 + 160k, ~94 ms older each time.
  const steady = (t: QueueTrend, fromMs: number, toMs: number) => {
    const out = [];
    for (let c = fromMs; c < toMs; c += 66.7) out.push(t.observe(c + 40, 40 + (c % 7), 4000));
    return out;
  };

  it('fires on a queue building at a bottleneck, with its delay and the rate that arrived', () => {
    const t = new QueueTrend();
    expect(steady(t, 0, 1000).every((x) => x === undefined)).toBe(true);
    const signals = [];
    for (let k = 0; k < 6; k++) {
      const capture = 1000 + k * 66.7;
      const arrival = 1040 + k * 160;
      const s = t.observe(arrival, arrival - capture, 4000);
      if (s) signals.push({ k, ...s });
    }
    expect(signals.length).toBeGreaterThan(0);
    const first = signals[0]!;
    // The third queued sample (k = 2) is the first that is ≥ 100 ms above the baseline with a run of 3.
    expect(first.k).toBe(2);
    expect(first.riseMs).toBeGreaterThan(100);
    expect(first.riseMs).toBeLessThan(250);
    // Two 4 KB samples over 320 ms: 25 KB/s, the bottleneck's rate.
    expect(first.rateBytesPerSec).toBeCloseTo(25_000, -2);
  });

  it('after an hour of a steady path still fires on a queue, with the rate of the queue alone', () => {
    // Ages that never fall by 5 ms keep one run going; it once grew for as long as the link lived.
    const t = new QueueTrend();
    for (let c = 0; c < 3_600_000; c += 66.7) expect(t.observe(c + 40, 40 + (c % 3), 4000)).toBeUndefined();
    const signals = [];
    for (let k = 0; k < 6; k++) {
      const arrival = 3_600_040 + k * 160;
      const s = t.observe(arrival, arrival - (3_600_000 + k * 66.7), 4000);
      if (s) signals.push(s);
    }
    expect(signals[0]?.rateBytesPerSec).toBeCloseTo(25_000, -2);
  });

  it('stays quiet when a stalled host hands over a burst, oldest first, and for a constant offset', () => {
    const t = new QueueTrend();
    steady(t, 0, 1000);
    // The receiver's event loop froze for 400 ms: six samples handled at once, ages falling.
    for (let k = 0; k < 6; k++) expect(t.observe(1400 + k * 0.2, 400 - k * 66.7, 4000)).toBeUndefined();
    // Ages high but flat (a clock-offset change): no rising run.
    const u = new QueueTrend();
    steady(u, 0, 1000);
    for (let k = 0; k < 10; k++) expect(u.observe(1000 + k * 66.7, 200, 4000)).toBeUndefined();
  });

  it('ignores a sample released late from the hold and non-finite ages', () => {
    const t = new QueueTrend();
    expect(t.observe(100, Number.NaN, 10)).toBeUndefined();
    expect(t.observe(100, 40, 10)).toBeUndefined();
    expect(t.observe(50, 900, 10)).toBeUndefined(); // earlier arrival than the last one seen
    expect(t.observe(166, 40, 10)).toBeUndefined();
  });
});

describe('StallWatch', () => {
  it('tells arrivals stamped during a host stall from those stamped on time', () => {
    const w = new StallWatch({ periodMs: 20, settleMs: 0 });
    for (let t = 0; t <= 100; t += 20) expect(w.beat(t)).toBe(false);
    // On time: an arrival between beats is measured.
    expect(w.uncertain(110, 115)).toBe(false);
    // The host stood still from 100 ms; at 400 ms it reads the I/O that waited before its timers run: uncertain.
    expect(w.uncertain(400, 400)).toBe(true);
    // The beat comes 280 ms late: a stall. Its turn's I/O (read after the timers, when the loop ran them first) is
    // uncertain until the catch-up ends; then arrivals are on time again, and the stall's stay uncertain.
    expect(w.beat(400)).toBe(true);
    expect(w.uncertain(401, 401)).toBe(true);
    w.endCatchUp(402);
    expect(w.uncertain(403, 405)).toBe(false);
    expect(w.uncertain(250, 500)).toBe(true);
    expect(w.uncertain(90, 500)).toBe(false);
    expect([w.stalls, w.maxStallMs]).toEqual([1, 280]);
    // With a settle time, arrivals just after the catch-up are uncertain too (the host's processes catch up).
    const settle = new StallWatch({ periodMs: 20 });
    settle.beat(0);
    settle.beat(20);
    settle.beat(320);
    settle.endCatchUp(322);
    for (let t = 340; t <= 580; t += 20) settle.beat(t);
    expect(settle.uncertain(500, 585)).toBe(true);
    expect(settle.uncertain(580, 585)).toBe(false);
    // A beat late for a reason that holds no I/O back (a hidden page's throttled timers): reset, no stall.
    settle.reset(2000);
    expect(settle.uncertain(2010, 2015)).toBe(false);
    // Until the next beat, however late (the page stays hidden): still none.
    expect(settle.uncertain(2900, 2950)).toBe(false);
    expect(settle.beat(2020)).toBe(false);
    expect(settle.stalls).toBe(1);
    // The interval's longest stall, once taken, starts again at 0; a beat late by less than 40 ms is none.
    expect(w.intervalMaxMs(false)).toBe(280);
    expect(w.intervalMaxMs(true)).toBe(280);
    expect(w.intervalMaxMs(true)).toBe(0);
    expect(w.beat(455)).toBe(false);
    expect(w.beat(515)).toBe(false); // 60 ms after the last: 40 late, not more
    expect(w.beat(576)).toBe(true);
    expect(w.intervalMaxMs(true)).toBe(41);
  });

  it('puts the window’s longest stall in the link report, and none when there was none', () => {
    const w = new StallWatch({ periodMs: 20 });
    w.beat(0);
    w.beat(232.4); // 212.4 ms late
    w.beat(252.4);
    expect(w.maxSinceMs(0)).toBeCloseTo(212.4);
    expect(w.maxSinceMs(300)).toBe(0); // ended before the window
    const m = new LinkMonitor(0);
    expect(m.report(500, extras.drops, w.maxSinceMs(0)).stallMs).toBe(212);
    expect('stallMs' in m.report(1000, extras.drops, w.maxSinceMs(500))).toBe(false);
  });

  it('keeps the stall of a peer report that a newer one replaced before any snapshot carried it', () => {
    const m = new LinkMonitor(0);
    const report = (timestampMs: number, stallMs?: number) => ({
      timestampMs,
      lossRate: { public: 0, private: 0 },
      receivedBytesPerSec: 1000,
      age: { p50Ms: 5, p95Ms: 9, count: 10 },
      drops: { ...extras.drops },
      ...(stallMs !== undefined ? { stallMs } : {}),
    });
    // Two reports within one of this end's intervals: the newer one's figures, the longer stall.
    m.receiveReport(report(1000, 310));
    m.receiveReport(report(1004));
    const s = m.snapshot(1500, extras);
    expect(s.remote?.timestampMs).toBe(1004);
    expect(s.remote?.stallMs).toBe(310);
    // Once carried, a report is replaced whole: the stall is not repeated in later intervals.
    m.receiveReport(report(2004));
    expect(m.snapshot(2500, extras).remote?.stallMs).toBeUndefined();
    // A shorter unseen stall gives way to a longer new one; an early emission counts as carried.
    m.receiveReport(report(3000, 50));
    m.receiveReport(report(3004, 120));
    expect(m.remote?.stallMs).toBe(120);
    m.remoteCarried();
    m.receiveReport(report(4000));
    expect(m.remote?.stallMs).toBeUndefined();
  });
});

describe('ReportWindow (reports that slide)', () => {
  it('covers the last window, slice by slice: bytes, loss per channel and ages of the slices within it', () => {
    const w = new ReportWindow(0, 500);
    let pseq = 0;
    // 1000 B/s steady, 10 packets per 100 ms on public; from 500 ms on, every other packet lost and 3000 B/s.
    for (let t = 0; t < 1000; t += 10) {
      const late = t >= 500;
      if (!late || pseq % 2 === 0) {
        w.onPacketSeq('public', pseq);
        w.onReceived(late ? 30 : 10);
        w.onAge(t, late ? 200 : 20);
      }
      pseq++;
      if ((t + 10) % 100 === 0) {
        const r = w.close(t + 10);
        if (t + 10 === 500) {
          expect(r.intervalMs).toBe(500);
          expect(r.receivedBytesPerSec).toBeCloseTo(1000);
          expect(r.lossRate.public).toBe(0);
          expect(r.lossRate.private).toBeUndefined();
          expect(r.age).toEqual({ p50Ms: 20, p95Ms: 20, count: 50 });
        }
        if (t + 10 === 700) {
          // Slices 200-700: three before the change, two after.
          expect(r.intervalMs).toBe(500);
          expect(r.receivedBytesPerSec).toBeCloseTo((300 * 1 + 200 * 1.5) * 2, 0);
          expect(r.age?.p95Ms).toBe(200);
          expect(r.age?.count).toBe(30 + 10);
        }
        if (t + 10 === 1000) {
          expect(r.receivedBytesPerSec).toBeCloseTo(1500);
          expect(r.lossRate.public).toBeCloseTo(0.5, 1);
          expect(r.age).toEqual({ p50Ms: 200, p95Ms: 200, count: 25 });
        }
      }
    }
  });

  it('keeps the newest slice when a report comes later than the window', () => {
    const w = new ReportWindow(0, 500);
    w.onReceived(900);
    const r = w.close(900);
    expect(r.intervalMs).toBe(900);
    expect(r.receivedBytesPerSec).toBe(1000);
  });
});

describe('ReportWindow outages', () => {
  // 15 samples/s of 2 packets on public, each 1000 B.
  const feed = (w: ReportWindow, fromMs: number, toMs: number, pseq: { n: number }) => {
    for (let t = fromMs; t < toMs; t += 66) {
      for (let k = 0; k < 2; k++) {
        w.onPacketSeq('public', pseq.n++, t);
        w.onReceived(1000);
      }
    }
  };

  it('reports an arrival gap ended by packets that skipped numbers, for as long as it is in the window', () => {
    const w = new ReportWindow(0, 500);
    const pseq = { n: 0 };
    feed(w, 0, 1000, pseq);
    expect(w.close(1000).outageMs).toBeUndefined();
    pseq.n += 14; // 0.5 s of packets the path lost
    feed(w, 1450, 1600, pseq);
    const r = w.close(1600);
    expect(r.outageMs).toBeGreaterThanOrEqual(450);
    expect(r.outageMs).toBeLessThan(520);
    feed(w, 1600, 2000, pseq);
    expect(w.close(2000).outageMs).toBe(r.outageMs); // its slice is still in the window
    feed(w, 2000, 2200, pseq);
    expect(w.close(2200).outageMs).toBeUndefined();
  });

  it('a sender that paused, a host that stalled, or a short gap is no outage', () => {
    const w = new ReportWindow(0, 500);
    const pseq = { n: 0 };
    feed(w, 0, 500, pseq);
    feed(w, 1000, 1200, pseq); // 0.5 s with nothing sent: no number skipped
    expect(w.close(1200).outageMs).toBeUndefined();
    pseq.n += 5;
    feed(w, 1400, 1600, pseq); // packets lost across a gap of ~200 ms: too short
    expect(w.close(1600).outageMs).toBeUndefined();
    pseq.n += 10;
    w.onPacketSeq('public', pseq.n++, 2000, true); // after a gap of 400 ms that this host's stall explains
    feed(w, 2066, 2200, pseq);
    expect(w.close(2200).outageMs).toBeUndefined();
  });
});

describe('SentLog', () => {
  it('gives the rate sent over a window of its clock, and nothing before its start', () => {
    const log = new SentLog(0);
    for (let t = 0; t < 2000; t += 10) log.add(t, t < 1000 ? 10 : 40); // 1 kB/s, then 4 kB/s
    expect(log.rate(200, 700)).toBeCloseTo(1000, -1);
    expect(log.rate(1200, 1700)).toBeCloseTo(4000, -1);
    expect(log.rate(750, 1250)).toBeCloseTo(2500, -2);
    expect(log.rate(-100, 400)).toBeUndefined();
    expect(log.rate(500, 500)).toBeUndefined();
  });

  it('compares a report with what was sent over its window, whatever the two ends’ phases', () => {
    const m = new LinkMonitor(0);
    // Sender at 1 kB/s until 1000, then 2 kB/s; 40 ms RTT; the peer's clock 5000 ms ahead.
    for (let t = 0; t < 2000; t += 10) m.onSent('public', t < 1000 ? 10 : 20, t);
    m.onPong(1900, 6920, 1940);
    // The peer reports at its 6980 (our 1980) over 500 ms: what it received left here from 1460 to 1960.
    m.receiveReport({
      timestampMs: 6980,
      intervalMs: 500,
      lossRate: { public: 0, private: undefined },
      receivedBytesPerSec: 2000,
      age: undefined,
      drops: { ...extras.drops },
    });
    expect(m.snapshot(2000, extras).remoteSentBytesPerSec).toBeCloseTo(2000, -1);
    // A report over the time of the change: half of it at each rate.
    m.receiveReport({ ...m.remote!, timestampMs: 6270 });
    expect(m.sentOverRemoteWindow()).toBeCloseTo(1500, -2);
    // A report without its window (an older peer): not known.
    const { intervalMs: _, ...old } = m.remote!;
    m.receiveReport(old);
    expect(m.sentOverRemoteWindow()).toBeUndefined();
  });
});
