import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  type AdaptationContext,
  type AdaptationPolicy,
  createDefaultAdaptationPolicy,
  DEFAULT_ADAPTATION_LADDER,
  type Decision,
  type LinkFigures,
  linkFiguresFromStats,
} from './adaptation.js';

/** mulberry32: the seeded RNG of the synthetic links (STYLE §11). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// A 15 fps stream: public layers cost 3, 3 and 6 kB/s as encoded; the private stream 6 kB/s at the top level.
const PUBLIC = [3000, 3000, 6000];
const PRIVATE_TOP = 6000;
const cost = (level: number) => {
  const l = DEFAULT_ADAPTATION_LADDER[level]!;
  return l.rateSymbols * l.bits;
};
const top = DEFAULT_ADAPTATION_LADDER.length - 1;

/** What a decision sends per second. */
function sendRate(d: Decision): number {
  return (
    PUBLIC.slice(0, d.publicLayers).reduce((a, b) => a + b, 0) + (PRIVATE_TOP * cost(d.level)) / cost(top)
  );
}

interface SimLink {
  capacityBytesPerSec: number;
  randomLoss: number;
  /**
   * The share of this interval the path is down (0..1): it carries that much less, and what it did not carry waits
   * (up to the queue's 0.5 s) and goes once it is back.
   */
  outage?: number;
}

/**
 * A fluid bottleneck: what exceeds capacity queues (up to 0.5 s, then drops), the queue adds age, random loss
 * and measurement noise are drawn from a seeded RNG. One call = one 1 s stats interval.
 */
function createSim(seed: number, noise = 0.05) {
  const r = rng(seed);
  let queue = 0;
  const jitter = () => 1 + (r() * 2 - 1) * noise;
  return (link: SimLink, sent: number): LinkFigures => {
    const offered = sent + queue;
    const through = Math.min(offered, link.capacityBytesPerSec) * (1 - (link.outage ?? 0));
    const maxQueue = link.capacityBytesPerSec * 0.5;
    const over = offered - through;
    const overflow = Math.max(0, over - maxQueue);
    queue = Math.min(over, maxQueue);
    const congestiveLoss = overflow / Math.max(1, sent);
    const loss = Math.min(1, link.randomLoss * jitter() + congestiveLoss);
    return {
      rttMs: 40 * jitter(),
      lossRate: Math.max(0, loss + (r() - 0.5) * 0.01),
      sentBytesPerSec: sent * jitter(),
      goodputBytesPerSec: through * (1 - link.randomLoss) * jitter(),
      queuedBytes: Math.round(Math.min(queue, 200_000) * 0.1 + r() * 2000),
      ageP95Ms: 60 + 40 * r() + (queue / link.capacityBytesPerSec) * 1000,
      droppedSamples: 0,
    };
  };
}

const ctx = (
  peerId: string,
  nowMs: number,
  link: LinkFigures,
  d: Decision | undefined,
): AdaptationContext => ({
  peerId,
  nowMs,
  link,
  stream: {
    publicLayerBytesPerSec: PUBLIC,
    privateBytesPerSec: d ? (PRIVATE_TOP * cost(d.level)) / cost(top) : PRIVATE_TOP,
  },
});

/** Runs one receiver for `seconds`, one decision per simulated second; `linkAt(t)` gives the path. */
function run(
  policy: AdaptationPolicy,
  peerId: string,
  seed: number,
  seconds: number,
  linkAt: (t: number) => SimLink,
  /** What the receiver's report adds to second t's figures (say, an outage it saw). */
  alter: (t: number, f: LinkFigures) => LinkFigures = (_, f) => f,
) {
  const sim = createSim(seed);
  const out: { t: number; d: Decision }[] = [];
  let d: Decision | undefined;
  for (let t = 1; t <= seconds; t++) {
    const sent = d ? sendRate(d) : sendRate({ publicLayers: 3, level: top } as Decision);
    d = policy.decide(ctx(peerId, t * 1000, alter(t, sim(linkAt(t), sent)), d));
    out.push({ t, d });
  }
  return out;
}

const changes = (trace: { d: Decision }[]) => trace.slice(1).filter((x) => x.d.changed);

describe('the default adaptation policy', () => {
  it('does not oscillate under noisy stable figures (seeded, 120 s, 5% noise, 2% random loss)', () => {
    for (const seed of [1, 2, 3]) {
      const trace = run(createDefaultAdaptationPolicy(), 'a', seed, 120, () => ({
        capacityBytesPerSec: 60_000,
        randomLoss: 0.02,
      }));
      expect(
        changes(trace),
        `seed ${seed}: ${changes(trace)
          .map((c) => c.d.reason)
          .join(' | ')}`,
      ).toEqual([]);
      expect(trace.at(-1)!.d.level).toBe(top);
    }
  });

  it('steps down within 1 s of a bandwidth drop, to a level that fits', () => {
    // Capacity 60 kB/s, then 9 kB/s from t = 30 s (after the interval ending at 30 s).
    const trace = run(createDefaultAdaptationPolicy(), 'a', 7, 40, (t) => ({
      capacityBytesPerSec: t <= 30 ? 60_000 : 9000,
      randomLoss: 0,
    }));
    const at31 = trace.find((x) => x.t === 31)!.d;
    expect(at31.changed).toBe(true);
    expect(at31.reason).toMatch(/down/);
    expect(at31.level).toBeLessThan(top);
    // Within two intervals the stream fits the new capacity and stays down.
    for (const x of trace.filter((y) => y.t >= 32)) expect(sendRate(x.d)).toBeLessThanOrEqual(9000);
  });

  it('probes back up one level at a time once the link recovers', () => {
    const trace = run(createDefaultAdaptationPolicy(), 'a', 11, 90, (t) => ({
      capacityBytesPerSec: t > 20 && t <= 40 ? 9000 : 60_000,
      randomLoss: 0,
    }));
    const low = trace.find((x) => x.t === 40)!.d.level;
    expect(low).toBeLessThan(top);
    const ups = trace.filter((x) => x.t > 40 && x.d.changed);
    expect(ups.length).toBeGreaterThan(0);
    let prev = low;
    for (const u of ups) {
      expect(u.d.reason).toMatch(/probe up/);
      expect(u.d.level).toBe(prev + 1);
      prev = u.d.level;
    }
    // Hold 3 s per level: back at the top well within 40 s of recovery.
    expect(trace.find((x) => x.t === 80)!.d.level).toBe(top);
  });

  it('a short outage is not the rate of the path: once what it held back arrives, the level before it returns', () => {
    const trace = run(createDefaultAdaptationPolicy(), 'a', 5, 45, (t) => ({
      capacityBytesPerSec: 60_000,
      randomLoss: 0,
      outage: t === 30 ? 0.85 : 0,
    }));
    // The outage's figure shows little arriving: down to what that fits (the sender cannot tell it from a path
    // that fell).
    const at30 = trace.find((x) => x.t === 30)!.d;
    expect(at30.reason).toMatch(/down 5 → [01]\b/);
    const at31 = trace.find((x) => x.t === 31)!.d;
    // The next shows the held-back samples arriving with the new ones: back to what that goodput fits, with the
    // step's margin (level 3 of 5 here); not as a probe, so no probe rule undoes it.
    expect(at31.reason).toMatch(/after the drop carries level \d: back 0 → \d/);
    expect(at31.level).toBeGreaterThanOrEqual(3);
    // It holds, and the top is back by t = 40 (climbing from the bottom, 3 s a level, it was t = 45).
    expect(trace.filter((x) => x.t > 31 && /down/.test(x.d.reason))).toEqual([]);
    expect(trace.find((x) => x.t === 40)!.d.level).toBe(top);
  });

  it('an outage the receiver reports (outageMs) steps nothing down: its loss and goodput are the outage’s', () => {
    const outageAt = (withReport: boolean) =>
      run(
        createDefaultAdaptationPolicy(),
        'a',
        5,
        40,
        (t) => ({ capacityBytesPerSec: 60_000, randomLoss: 0, outage: t === 30 ? 0.85 : 0 }),
        // What netlab's lte-handover shows after its 0.5 s blackout: most of the window's packets lost.
        (t, f) => (t === 30 ? { ...f, lossRate: 0.8, ...(withReport ? { outageMs: 480 } : {}) } : f),
      );
    const seen = outageAt(true);
    expect(seen.filter((x) => x.t >= 29 && x.t <= 33).map((x) => x.d.level)).toEqual([
      top,
      top,
      top,
      top,
      top,
    ]);
    expect(seen.filter((x) => x.t >= 30).every((x) => x.d.lossRate === 0)).toBe(true);
    // Without the report's outage the same figures step down and condition on the loss.
    const blind = outageAt(false);
    expect(blind.find((x) => x.t === 30)!.d.level).toBeLessThan(top);
    expect(blind.find((x) => x.t === 30)!.d.lossRate).toBeGreaterThan(0);
  });

  it('a report over which nothing arrived is an outage in progress: no step down, unless the send queue grows', () => {
    const silentAt = (queuedBytes: number) =>
      run(
        createDefaultAdaptationPolicy(),
        'a',
        5,
        36,
        () => ({ capacityBytesPerSec: 60_000, randomLoss: 0 }),
        // lte-handover: a report made during the blackout, delivered once the path was back (control is reliable).
        (t, f) => (t === 30 ? { ...f, goodputBytesPerSec: 0, lossRate: undefined, queuedBytes } : f),
      );
    expect(
      silentAt(0)
        .filter((x) => x.t >= 29)
        .every((x) => x.d.level === top),
    ).toBe(true);
    // A send queue that grows is a strong signal whatever the path did.
    expect(silentAt(300_000).find((x) => x.t === 30)!.d.level).toBeLessThan(top);
  });

  it('a bandwidth drop restores nothing: its bottleneck drains at the new rate, which the step fitted', () => {
    const trace = run(createDefaultAdaptationPolicy(), 'a', 7, 45, (t) => ({
      capacityBytesPerSec: t <= 30 ? 60_000 : 9000,
      randomLoss: 0,
    }));
    expect(trace.filter((x) => /after the drop/.test(x.d.reason))).toEqual([]);
    for (const x of trace.filter((y) => y.t >= 32 && y.t <= 34))
      expect(sendRate(x.d)).toBeLessThanOrEqual(9000);
  });

  it('backs off probing when the capacity sits between two levels (no steady oscillation)', () => {
    // 20 kB/s: level 4 (~16.5 kB/s) fits, level 5 (18 kB/s + queue) does not.
    const trace = run(createDefaultAdaptationPolicy(), 'a', 5, 180, () => ({
      capacityBytesPerSec: 17_000,
      randomLoss: 0,
    }));
    const ch = changes(trace);
    // Each failed probe doubles the hold (3, 6, 12, 24, 30 s …): a handful of probes in 3 minutes, not 60. (An
    // age rise alone steps one level at a time, so the first settling takes two changes: 18, not 16.)
    expect(ch.length).toBeLessThanOrEqual(18);
    const lastMinute = trace.filter((x) => x.t > 120);
    expect(lastMinute.filter((x) => x.d.changed).length).toBeLessThanOrEqual(4);
    // Mostly at the highest level that fits.
    const fits = lastMinute.filter((x) => sendRate(x.d) <= 17_000).length;
    expect(fits / lastMinute.length).toBeGreaterThan(0.85);
  });

  it("decides for one slow receiver without changing another's decisions", () => {
    const fast = () => ({ capacityBytesPerSec: 60_000, randomLoss: 0.01 });
    const alone = run(createDefaultAdaptationPolicy(), 'fast', 3, 60, fast);
    // The same policy object serving both, interleaved decision by decision.
    const shared = createDefaultAdaptationPolicy();
    const simFast = createSim(3);
    const simSlow = createSim(4);
    let dFast: Decision | undefined;
    let dSlow: Decision | undefined;
    const together: Decision[] = [];
    const slow: Decision[] = [];
    for (let t = 1; t <= 60; t++) {
      const sentSlow = dSlow ? sendRate(dSlow) : 18_000;
      dSlow = shared.decide(
        ctx('slow', t * 1000, simSlow({ capacityBytesPerSec: 6000, randomLoss: 0.1 }, sentSlow), dSlow),
      );
      slow.push(dSlow);
      const sentFast = dFast ? sendRate(dFast) : 18_000;
      dFast = shared.decide(ctx('fast', t * 1000, simFast(fast(), sentFast), dFast));
      together.push(dFast);
    }
    expect(together).toEqual(alone.map((x) => x.d));
    expect(slow.at(-1)!.level).toBeLessThan(top);
    expect(together.at(-1)!.level).toBe(top);
  });

  it('conditions the coder on the reported loss, on its grid, without flipping on noise', () => {
    const trace = run(createDefaultAdaptationPolicy(), 'a', 9, 60, () => ({
      capacityBytesPerSec: 60_000,
      randomLoss: 0.1,
    }));
    const after = trace.filter((x) => x.t > 5);
    for (const x of after) expect(x.d.lossRate).toBe(0.1);
    expect(after.filter((x) => x.d.changed)).toEqual([]);
    const d = trace.at(-1)!.d;
    expect(d.privateOp).toMatchObject({ rateSymbols: 16, bits: 8, lossRate: 0.1, version: 1 });
    expect(d.privateOp.snrDb).toBeGreaterThan(0);
  });

  it("keeps the private point's name while the loss conditioning moves (a shared stream does not switch)", () => {
    const trace = run(createDefaultAdaptationPolicy(), 'a', 11, 40, (t) => ({
      capacityBytesPerSec: 60_000,
      randomLoss: t <= 20 ? 0.1 : 0.3,
    }));
    const first = trace.find((x) => x.t > 5 && x.d.lossRate === 0.1)!.d;
    const last = trace.at(-1)!.d;
    expect(last.lossRate).toBe(0.3);
    expect(last.level).toBe(first.level);
    expect(last.privateOp.lossRate).toBe(0.3);
    expect(last.privateOp.name).toBe(first.privateOp.name);
    expect(last.privateOp.name).toBe(`adapt-r${last.privateOp.rateSymbols}b${last.privateOp.bits}`);
  });

  it('maps ladder levels onto public layers by rate prefix (layer split is a parameter)', () => {
    const p = createDefaultAdaptationPolicy({
      ladder: [
        { rateSymbols: 2, bits: 8 },
        { rateSymbols: 6, bits: 8 },
        { rateSymbols: 12, bits: 8 },
      ],
      layerBounds: [6, 12],
      initialLevel: 0,
    });
    const clean: LinkFigures = {
      rttMs: 10,
      lossRate: 0,
      sentBytesPerSec: 1000,
      goodputBytesPerSec: 1000,
      queuedBytes: 0,
      ageP95Ms: 20,
      droppedSamples: 0,
    };
    const seen = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((t) =>
      p.decide({
        peerId: 'x',
        nowMs: t * 1000,
        link: clean,
        stream: { publicLayerBytesPerSec: [500, 500], privateBytesPerSec: 100 },
      }),
    );
    expect(seen[0]).toMatchObject({ level: 0, publicLayers: 1, publicRateSymbols: 6 });
    expect(seen.at(-1)).toMatchObject({ level: 2, publicLayers: 2, publicRateSymbols: 12 });
    expect(seen.find((d) => d.level === 1)).toMatchObject({ publicLayers: 1 });
  });

  it('rejects bad options with TypeError', () => {
    expect(() => createDefaultAdaptationPolicy({ ladder: [] })).toThrow(TypeError);
    expect(() =>
      createDefaultAdaptationPolicy({
        ladder: [
          { rateSymbols: 8, bits: 8 },
          { rateSymbols: 4, bits: 8 },
        ],
      }),
    ).toThrow(/cheapest first/);
    expect(() => createDefaultAdaptationPolicy({ layerBounds: [8, 4] })).toThrow(TypeError);
    expect(() => createDefaultAdaptationPolicy({ initialLevel: 99 })).toThrow(TypeError);
    expect(() => createDefaultAdaptationPolicy({ lossFloorWindowMs: 0 })).toThrow(/lossFloorWindowMs/);
    expect(() => createDefaultAdaptationPolicy({ lossyLinkRate: Number.NaN })).toThrow(/lossyLinkRate/);
    expect(() => createDefaultAdaptationPolicy({ lossyLinkRate: 1.5 })).toThrow(/lossyLinkRate/);
  });

  it('forget() resets a receiver', () => {
    const p = createDefaultAdaptationPolicy();
    const bad: LinkFigures = {
      rttMs: 10,
      lossRate: 0,
      sentBytesPerSec: 18_000,
      goodputBytesPerSec: 4000,
      queuedBytes: 100_000,
      ageP95Ms: 900,
      droppedSamples: 3,
    };
    const s = { publicLayerBytesPerSec: PUBLIC, privateBytesPerSec: PRIVATE_TOP };
    expect(p.decide({ peerId: 'x', nowMs: 0, link: bad, stream: s }).level).toBeLessThan(top);
    p.forget('x');
    expect(
      p.decide({
        peerId: 'x',
        nowMs: 1000,
        link: { ...bad, droppedSamples: 0, queuedBytes: 0, goodputBytesPerSec: 18_000, ageP95Ms: 50 },
        stream: s,
      }).level,
    ).toBe(top);
  });
});

describe('linkFiguresFromStats', () => {
  it("reads the receiver's report and the sender's queues", () => {
    const ch = (q: number, b: number) => ({
      sentBytesPerSec: 0,
      receivedBytesPerSec: 0,
      sentMessages: 0,
      receivedMessages: 0,
      bufferedAmountBytes: b,
      queuedBytes: q,
      lossRate: undefined,
      lostPackets: 0,
    });
    const base = {
      timestampMs: 0,
      intervalMs: 1000,
      rttMs: 30,
      clockOffsetMs: 0,
      channels: { control: ch(0, 0), public: ch(1000, 2000), private: ch(10, 20) },
      sentBytesPerSec: 9000,
      receivedBytesPerSec: 100,
      age: undefined,
      drops: { stale: 0, late: 0, duplicate: 0, malformed: 0, backpressure: 0 },
      sendDroppedSamples: { backpressure: 2, stale: 1 },
      controlRejected: 0,
      samplesComplete: 0,
      samplesIncomplete: 0,
      remote: {
        timestampMs: 0,
        lossRate: { public: 0.05, private: 0.08 },
        receivedBytesPerSec: 8000,
        age: { p50Ms: 20, p95Ms: 45, count: 15 },
        drops: { stale: 0, late: 0, duplicate: 0, malformed: 0, backpressure: 0 },
      },
    };
    const prev = { ...base, sendDroppedSamples: { backpressure: 1, stale: 0 } };
    expect(linkFiguresFromStats(base, prev)).toEqual({
      rttMs: 30,
      lossRate: 0.08,
      sentBytesPerSec: 9000,
      goodputBytesPerSec: 8000,
      queuedBytes: 3030,
      ageP95Ms: 45,
      droppedSamples: 2,
      // The previous figures carried the same report.
      reportNew: false,
    });
    expect(linkFiguresFromStats(base, { ...prev, remote: { ...base.remote } }).reportNew).toBe(true);
    expect(linkFiguresFromStats(base).reportNew).toBe(true);
    // Host stalls: the receiver's (in a report that is news) or the sender's own over the interval, the longer.
    const stalled = {
      ...base,
      hostStalls: { count: 3, maxMs: 300, unmeasuredSamples: 2, intervalMaxMs: 60 },
      remote: { ...base.remote, stallMs: 120 },
    };
    expect(linkFiguresFromStats(stalled, prev).hostStallMs).toBe(120);
    expect(linkFiguresFromStats(stalled, { ...prev, remote: stalled.remote }).hostStallMs).toBe(60);
    expect(linkFiguresFromStats({ ...stalled, remote: base.remote }, prev).hostStallMs).toBe(60);
  });
});

describe('the default policy on noisy real-world reports', () => {
  const s = { publicLayerBytesPerSec: PUBLIC, privateBytesPerSec: PRIVATE_TOP };
  const clean: LinkFigures = {
    rttMs: 10,
    lossRate: 0,
    sentBytesPerSec: 3000,
    goodputBytesPerSec: 3000,
    queuedBytes: 0,
    ageP95Ms: 40,
    droppedSamples: 0,
  };

  it('ignores weak signals while a receiver warms up, and a goodput gap below the deficit floor', () => {
    const p = createDefaultAdaptationPolicy();
    // Set-up figures: the receiver has barely started receiving.
    expect(
      p.decide({ peerId: 'w', nowMs: 0, link: { ...clean, goodputBytesPerSec: 0 }, stream: s }).level,
    ).toBe(top);
    expect(p.decide({ peerId: 'w', nowMs: 1000, link: { ...clean, ageP95Ms: 400 }, stream: s }).level).toBe(
      top,
    );
    // Warm: 23 vs 18 kbit/s (a sample's worth of window skew at a low rate) is not congestion.
    const d = p.decide({
      peerId: 'w',
      nowMs: 4000,
      link: { ...clean, sentBytesPerSec: 2900, goodputBytesPerSec: 2250 },
      stream: s,
    });
    expect(d.level).toBe(top);
    // A real deficit is (at a steady send rate: the goodput is compared with the lower of two intervals' rates).
    p.decide({
      peerId: 'w',
      nowMs: 4500,
      link: { ...clean, sentBytesPerSec: 40_000, goodputBytesPerSec: 40_000 },
      stream: s,
    });
    const big = p.decide({
      peerId: 'w',
      nowMs: 5000,
      link: { ...clean, sentBytesPerSec: 40_000, goodputBytesPerSec: 9000 },
      stream: s,
    });
    expect(big.level).toBeLessThan(top);
    expect(big.reason).toMatch(/goodput .* < sent/);
  });

  it('a one-interval age spike (a host stall) is not congestion; an age rise that persists, or comes with a deficit, is', () => {
    const p = createDefaultAdaptationPolicy({ warmupMs: 0 });
    expect(p.decide({ peerId: 'a', nowMs: 0, link: clean, stream: s }).level).toBe(top);
    const spike = p.decide({ peerId: 'a', nowMs: 1000, link: { ...clean, ageP95Ms: 600 }, stream: s });
    expect(spike.level).toBe(top);
    expect(p.decide({ peerId: 'a', nowMs: 2000, link: clean, stream: s }).level).toBe(top);
    // The same rise twice in a row: a queue on the path.
    p.decide({ peerId: 'a', nowMs: 3000, link: { ...clean, ageP95Ms: 600 }, stream: s });
    const held = p.decide({ peerId: 'a', nowMs: 4000, link: { ...clean, ageP95Ms: 600 }, stream: s });
    // An age rise says a queue builds, not what the path carries: one level down, not to a goodput fit.
    expect(held.level).toBe(top - 1);
    expect(held.reason).toMatch(/age p95 600 ms/);
    // With a goodput deficit the first interval is enough.
    const q = createDefaultAdaptationPolicy({ warmupMs: 0 });
    q.decide({
      peerId: 'b',
      nowMs: 0,
      link: { ...clean, sentBytesPerSec: 40_000, goodputBytesPerSec: 40_000 },
      stream: s,
    });
    const both = q.decide({
      peerId: 'b',
      nowMs: 1000,
      link: { ...clean, ageP95Ms: 600, sentBytesPerSec: 40_000, goodputBytesPerSec: 9000 },
      stream: s,
    });
    expect(both.level).toBeLessThan(top);
    expect(both.reason).toMatch(/goodput .*age p95/);
  });

  it('a goodput figure skewed by the report windows is not congestion; a deficit over two figures, or a collapse, is', () => {
    const p = createDefaultAdaptationPolicy({ warmupMs: 0 });
    const at = (nowMs: number, sent: number, good: number, lossRate = 0) =>
      p.decide({
        peerId: 'g',
        nowMs,
        link: { ...clean, sentBytesPerSec: sent, goodputBytesPerSec: good, lossRate },
        stream: s,
      });
    at(0, 60_000, 60_000);
    // 25% short, then 20% over: the two windows were a few samples apart.
    expect(at(1000, 60_000, 45_000).level).toBe(top);
    expect(at(2000, 60_000, 72_000).level).toBe(top);
    // 25% short twice in a row: a real deficit.
    expect(at(3000, 60_000, 45_000).level).toBe(top);
    expect(at(4000, 60_000, 45_000).level).toBeLessThan(top);
    // A collapse steps down at the first figure, even when the bottleneck's drops show as loss.
    const q = createDefaultAdaptationPolicy({ warmupMs: 0 });
    q.decide({
      peerId: 'c',
      nowMs: 0,
      link: { ...clean, sentBytesPerSec: 60_000, goodputBytesPerSec: 60_000 },
      stream: s,
    });
    const d = q.decide({
      peerId: 'c',
      nowMs: 1000,
      link: { ...clean, sentBytesPerSec: 60_000, goodputBytesPerSec: 24_000, lossRate: 0.6 },
      stream: s,
    });
    expect(d.level).toBeLessThan(top);
    expect(d.reason).toMatch(/goodput 192 kbit\/s < sent 480 kbit\/s/);
  });

  it('a probe that meets a collapse of the path goes to the goodput fit, not back to where it came from', () => {
    // Level 3 for a while, a probe to 4, then the path falls to 10 kB/s while probing.
    const p = createDefaultAdaptationPolicy({ warmupMs: 0, initialLevel: 3 });
    const ok = { ...clean, sentBytesPerSec: 30_000, goodputBytesPerSec: 30_000 };
    let d = p.decide({ peerId: 'p', nowMs: 0, link: ok, stream: s });
    for (let t = 1000; d.level === 3; t += 1000) d = p.decide({ peerId: 'p', nowMs: t, link: ok, stream: s });
    expect(d.level).toBe(4);
    expect(d.reason).toMatch(/probe up 3 → 4/);
    const fell = p.decide({
      peerId: 'p',
      nowMs: 10_000,
      link: { ...clean, sentBytesPerSec: 40_000, goodputBytesPerSec: 10_000, lossRate: 0.5 },
      stream: s,
    });
    // 85% of 10 kB/s fits the base layer only (3 kB/s public + the private stream scaled), not level 3.
    expect(fell.level).toBeLessThan(3);
  });

  it('while draining, a goodput clearly short of the new level steps again (the path fell further), and pauses', () => {
    const p = createDefaultAdaptationPolicy({ warmupMs: 0 });
    p.decide({
      peerId: 'd',
      nowMs: 0,
      link: { ...clean, sentBytesPerSec: 40_000, goodputBytesPerSec: 40_000 },
      stream: s,
    });
    // First figures of a drop: a collapse → a step to what 85% of 20 kB/s fits (level 4).
    const big = { ...clean, sentBytesPerSec: 40_000, goodputBytesPerSec: 20_000 };
    const first = p.decide({ peerId: 'd', nowMs: 1000, link: big, stream: s });
    expect(first.level).toBeLessThan(top);
    expect(first.level).toBeGreaterThan(0);
    // A collapse leaves a queue: the receiver is paused while it drains (20 kB/s sent beyond 20 kB/s of
    // goodput over a 500 ms interval: 500 ms, the longest pause).
    expect(first.pauseMs).toBe(500);
    // 1.5 s later, still draining (figures up to 700 ms after the pause cover it, and are not read for goodput):
    // the goodput is 5 kB/s, far below that level's need.
    const again = p.decide({
      peerId: 'd',
      nowMs: 2500,
      link: { ...clean, sentBytesPerSec: 20_000, goodputBytesPerSec: 5000, lossRate: 0.4 },
      stream: s,
    });
    expect(again.level).toBe(0);
    // It pauses too: 20 kB/s went into a path that carried 5 for an interval, a queue of 3 intervals (at most
    // 500 ms), which at the base layer's spare rate would take seconds to drain.
    expect(again.pauseMs).toBe(500);
    expect(again.reason).toMatch(/goodput 40 kbit\/s < level \d's \d+ kbit\/s: down \d → 0, pause 500 ms/);
  });

  it('a sender slowed by its host is fitted at the rate it really sends, not stepped to the bottom', () => {
    // A stream of 180 kB/s nominal at the top; the host lets the sender do ~4 of 15 fps: 50 kB/s sent.
    const big = { publicLayerBytesPerSec: [30_000, 30_000, 60_000], privateBytesPerSec: 60_000 };
    const slow = { ...clean, sentBytesPerSec: 50_000, goodputBytesPerSec: 35_000 };
    const p = createDefaultAdaptationPolicy({ warmupMs: 0 });
    p.decide({ peerId: 's', nowMs: 0, link: slow, stream: big });
    const d = p.decide({ peerId: 's', nowMs: 1000, link: slow, stream: big });
    // 85% of 35 kB/s fits level 3 at the real pace (90 kB/s nominal × 50/180 = 25 kB/s), not only level 0.
    expect(d.level).toBe(3);
    // With samples dropped by the sender's own queue the shortfall is the link's: no scaling.
    const q = createDefaultAdaptationPolicy({ warmupMs: 0 });
    const dropped = q.decide({ peerId: 'q', nowMs: 0, link: { ...slow, droppedSamples: 3 }, stream: big });
    expect(dropped.level).toBe(0);
  });

  it('a burst the sender just caught up on is not a collapse; the same goodput against a steady rate is', () => {
    const p = createDefaultAdaptationPolicy({ warmupMs: 0 });
    const at = (nowMs: number, sent: number, good: number) =>
      p.decide({
        peerId: 'b',
        nowMs,
        link: { ...clean, sentBytesPerSec: sent, goodputBytesPerSec: good },
        stream: s,
      });
    at(0, 20_000, 20_000);
    // Its host stalled, then sent 2.5 intervals' worth at once; the receiver's report has not seen it yet.
    expect(at(1000, 50_000, 22_000).level).toBe(top);
    // The rate stays up and the goodput does not follow: the path.
    expect(at(2000, 50_000, 20_000).level).toBeLessThan(top);
  });

  it('confirmTicks makes a weak signal wait for a second report; strong ones still act at once', () => {
    const p = createDefaultAdaptationPolicy({ confirmTicks: 2, warmupMs: 0 });
    const weak = { ...clean, sentBytesPerSec: 40_000, goodputBytesPerSec: 9000 };
    expect(p.decide({ peerId: 'c', nowMs: 0, link: weak, stream: s }).level).toBe(top);
    expect(p.decide({ peerId: 'c', nowMs: 1000, link: weak, stream: s }).level).toBeLessThan(top);
    const q = createDefaultAdaptationPolicy({ confirmTicks: 2, warmupMs: 0 });
    expect(
      q.decide({ peerId: 'c', nowMs: 0, link: { ...clean, droppedSamples: 2 }, stream: s }).level,
    ).toBeLessThan(top);
  });
});

describe('the default policy on early reports and drain pauses', () => {
  // The whole stream at the top: 12 kB/s public + 6 kB/s private = 18 kB/s, sent as such.
  const s = { publicLayerBytesPerSec: PUBLIC, privateBytesPerSec: PRIVATE_TOP };
  const steady: LinkFigures = {
    rttMs: 10,
    lossRate: 0,
    sentBytesPerSec: 18_000,
    goodputBytesPerSec: 18_000,
    queuedBytes: 0,
    ageP95Ms: 40,
    droppedSamples: 0,
  };
  const warmPolicy = (id: string, options = {}) => {
    const p = createDefaultAdaptationPolicy({ warmupMs: 1000, ...options });
    p.decide({ peerId: id, nowMs: 0, link: steady, stream: s });
    p.decide({ peerId: id, nowMs: 1000, link: steady, stream: s });
    return p;
  };

  it('an early report of a queue building steps down at once to what the arrived rate fits, and pauses while it drains', () => {
    const p = warmPolicy('e');
    // The path fell: 7 kB/s arrived while the ages rose 200 ms.
    const d = p.decide({
      peerId: 'e',
      nowMs: 1200,
      link: { ...steady, queue: { riseMs: 200, rateBytesPerSec: 7000 } },
      stream: s,
    });
    expect(d.changed).toBe(true);
    // 85% of 7 kB/s = 5.95 kB/s: the base layer (3 kB/s) and the private stream at level 1 (1.5 kB/s) fit.
    expect(d.publicLayers).toBe(1);
    expect(d.level).toBe(1);
    expect(sendRate(d)).toBeLessThanOrEqual(5950);
    // The rise, + what kept queueing at 18/7 of the path's rate for ~100 ms more (157 ms), + 50 ms.
    expect(d.pauseMs).toBe(407);
    expect(d.reason).toMatch(
      /queue building on the path: age \+200 ms at 56 kbit\/s: down 5 → 1, pause 407 ms/,
    );
    // The next regular figures cover the pause (little sent, little received): no goodput decision on them.
    const after = p.decide({
      peerId: 'e',
      nowMs: 1500,
      link: { ...steady, sentBytesPerSec: 500, goodputBytesPerSec: 200 },
      stream: s,
    });
    expect(after.level).toBe(d.level);
    expect(after.pauseMs).toBe(0);
    // A second early report while the queue drains changes nothing (the pause ends at 1607, and samples sent
    // before it may still arrive old for 300 ms).
    const again = p.decide({
      peerId: 'e',
      nowMs: 1800,
      link: { ...steady, queue: { riseMs: 300, rateBytesPerSec: 4000 } },
      stream: s,
    });
    expect(again.changed).toBe(false);
    // After that, one says the queue grows again: the step was not enough, down again (to the bottom here).
    const regrow = p.decide({
      peerId: 'e',
      nowMs: 2100,
      link: { ...steady, sentBytesPerSec: 9000, queue: { riseMs: 150, rateBytesPerSec: 3000 } },
      stream: s,
    });
    expect(regrow.changed).toBe(true);
    expect(regrow.level).toBe(0);
    expect(regrow.pauseMs).toBeGreaterThan(0);
  });

  it('restores nothing on figures that repeat the report from before the drop', () => {
    const p = warmPolicy('r');
    const d = p.decide({
      peerId: 'r',
      nowMs: 1200,
      link: { ...steady, queue: { riseMs: 200, rateBytesPerSec: 7000 } },
      stream: s,
    });
    expect(d.level).toBe(1);
    // The stream now runs at level 1.
    const atOne = { ...s, privateBytesPerSec: (PRIVATE_TOP * cost(1)) / cost(top) };
    // The next regular figures carry the report from before the early one: its goodput is the old path's.
    const stale = p.decide({
      peerId: 'r',
      nowMs: 1500,
      link: { ...steady, reportNew: false },
      stream: atOne,
    });
    expect(stale.level).toBe(1);
    // A report made after the drop whose goodput is below what the old level sent: a path that narrowed, or a
    // report that still covers the time before it narrowed. No restore.
    const short = p.decide({
      peerId: 'r',
      nowMs: 1700,
      link: { ...steady, goodputBytesPerSec: 12_000, reportNew: true },
      stream: atOne,
    });
    expect(short.level).toBe(1);
    // One that shows the path carrying the old rate again restores it.
    const fresh = p.decide({ peerId: 'r', nowMs: 2000, link: { ...steady, reportNew: true }, stream: atOne });
    expect(fresh.level).toBeGreaterThan(1);
    expect(fresh.reason).toMatch(/after the drop carries level \d: back 1 → \d/);
  });

  it('an early report is not the path when as much arrived as was sent, when the sender itself got slower, or during warm-up', () => {
    // A late host: the ages rose, but the rate that arrived is what was sent.
    const p = warmPolicy('h');
    const late = { ...steady, queue: { riseMs: 200, rateBytesPerSec: 17_000 } };
    expect(p.decide({ peerId: 'h', nowMs: 1200, link: late, stream: s }).changed).toBe(false);
    // The sender's own delay rose 150 ms: 200 − 150 = 50 ms is no queue on the path.
    const fell = { ...steady, queue: { riseMs: 200, rateBytesPerSec: 5000 } };
    expect(
      p.decide({ peerId: 'h', nowMs: 1400, link: fell, stream: s, senderDelayRiseMs: 150 }).changed,
    ).toBe(false);
    // Without that, the same report acts.
    expect(p.decide({ peerId: 'h', nowMs: 1600, link: fell, stream: s }).changed).toBe(true);
    // A stream of a few kbit/s (small private samples) fills no queue: its deficit is the figures' noise.
    const tiny = createDefaultAdaptationPolicy({ warmupMs: 0 });
    const small = { ...steady, sentBytesPerSec: 2000, goodputBytesPerSec: 2000 };
    tiny.decide({ peerId: 't', nowMs: 0, link: small, stream: s });
    expect(
      tiny.decide({
        peerId: 't',
        nowMs: 500,
        link: { ...small, queue: { riseMs: 300, rateBytesPerSec: 500 } },
        stream: s,
      }).changed,
    ).toBe(false);
    // During warm-up (connection set-up fills queues too): nothing.
    const w = createDefaultAdaptationPolicy({ warmupMs: 3000 });
    w.decide({ peerId: 'w', nowMs: 0, link: steady, stream: s });
    expect(w.decide({ peerId: 'w', nowMs: 500, link: fell, stream: s }).level).toBe(top);
  });

  it('a host stall is not the path: no goodput decision on its figures, its length off an age rise or early report', () => {
    // A collapse of the goodput (18 → 6 kB/s) in figures whose interval held a 300 ms stall of either host:
    // the stall moved bytes to the next interval's count. Hold, and no probing on it; without the stall, down.
    const collapse = { ...steady, goodputBytesPerSec: 6000 };
    const p = warmPolicy('st');
    const held = p.decide({ peerId: 'st', nowMs: 1500, link: { ...collapse, hostStallMs: 300 }, stream: s });
    expect([held.changed, held.level]).toEqual([false, top]);
    // The next figures are the stall's too (what it held back is counted there): hold; after 700 ms, they are the path's.
    expect(p.decide({ peerId: 'st', nowMs: 2000, link: collapse, stream: s }).level).toBe(top);
    expect(p.decide({ peerId: 'st', nowMs: 2500, link: collapse, stream: s }).level).toBeLessThan(top);
    const q = warmPolicy('st2');
    expect(q.decide({ peerId: 'st2', nowMs: 1500, link: collapse, stream: s }).level).toBeLessThan(top);
    // A stall under 100 ms leaves the goodput figures as they are.
    const r = warmPolicy('st3');
    expect(
      r.decide({ peerId: 'st3', nowMs: 1500, link: { ...collapse, hostStallMs: 80 }, stream: s }).level,
    ).toBeLessThan(top);
    // An age p95 300 ms above its base, twice, when a 250 ms stall explains 250 of it: no age signal. Without
    // the stall, one level down.
    const aged = { ...steady, ageP95Ms: 340 };
    const a = warmPolicy('sa');
    a.decide({ peerId: 'sa', nowMs: 1500, link: { ...aged, hostStallMs: 250 }, stream: s });
    expect(
      a.decide({ peerId: 'sa', nowMs: 2000, link: { ...aged, hostStallMs: 250 }, stream: s }).level,
    ).toBe(top);
    const b = warmPolicy('sb');
    b.decide({ peerId: 'sb', nowMs: 1500, link: aged, stream: s });
    const down = b.decide({ peerId: 'sb', nowMs: 2000, link: aged, stream: s });
    expect(down.level).toBeLessThan(top);
    expect(down.reason).toMatch(/age p95 340 ms \(base 40\): down 5/);
    // An early report: a rise of 260 ms with a 200 ms stall in its interval leaves 60 ms for the path: hold.
    const e = warmPolicy('se');
    const early = { ...steady, queue: { riseMs: 260, rateBytesPerSec: 5000 } };
    expect(
      e.decide({ peerId: 'se', nowMs: 1200, link: { ...early, hostStallMs: 200 }, stream: s }).changed,
    ).toBe(false);
    // A rise of 360 ms with the same stall is a queue: down, and the reason names the stall.
    const more = { ...steady, queue: { riseMs: 360, rateBytesPerSec: 5000 }, hostStallMs: 200 };
    const d = e.decide({ peerId: 'se', nowMs: 1400, link: more, stream: s });
    expect(d.changed).toBe(true);
    expect(d.reason).toMatch(/age \+360 ms \(host stall 200 ms\) at 40 kbit\/s: down 5/);
  });

  it("on a link with background loss: one collapse figure, one growing queue, a short early rise or a small stream's loss are not congestion; a second figure is", () => {
    // A link that loses 20 % of every interval (loss and goodput agree), warm, then 8 figures: background 20 %.
    const lossy: LinkFigures = { ...steady, lossRate: 0.2, goodputBytesPerSec: 14_400 };
    const lossyPolicy = (id: string) => {
      const p = warmPolicy(id);
      for (let t = 1500; t <= 5000; t += 500) p.decide({ peerId: id, nowMs: t, link: lossy, stream: s });
      return p;
    };
    // One interval in which SCTP stalled (goodput 0.45 of sent, 38 % loss, the send queue over its limit): held.
    const stall: LinkFigures = { ...lossy, lossRate: 0.38, goodputBytesPerSec: 8100, queuedBytes: 30_000 };
    const p = lossyPolicy('l');
    expect(p.decide({ peerId: 'l', nowMs: 5500, link: stall, stream: s }).level).toBe(top);
    // The link recovers: nothing happened.
    expect(p.decide({ peerId: 'l', nowMs: 6000, link: lossy, stream: s }).level).toBe(top);
    // On the same link, the collapse and the queue held over a second figure: congestion, down to the goodput fit.
    const q = lossyPolicy('q');
    q.decide({ peerId: 'q', nowMs: 5500, link: stall, stream: s });
    const d = q.decide({ peerId: 'q', nowMs: 6000, link: { ...stall, queuedBytes: 40_000 }, stream: s });
    expect(d.level).toBeLessThan(top);
    expect(d.reason).toMatch(/queue 39 KiB growing, goodput 65 kbit\/s < sent 144 kbit\/s/);
    // The same single figure on a clean link is a collapse at once.
    const c = warmPolicy('c');
    expect(
      c.decide({ peerId: 'c', nowMs: 1500, link: { ...stall, lossRate: 0 }, stream: s }).level,
    ).toBeLessThan(top);
    // An early report's rise of 150 ms is the path's on a clean link, not on the lossy one (SCTP's wait for a lost
    // chunk ages what queues behind it); 250 ms is on both.
    const early = (riseMs: number) => ({ ...lossy, queue: { riseMs, rateBytesPerSec: 7000 } });
    expect(lossyPolicy('e1').decide({ peerId: 'e1', nowMs: 5200, link: early(150), stream: s }).changed).toBe(
      false,
    );
    expect(
      lossyPolicy('e2').decide({ peerId: 'e2', nowMs: 5200, link: early(250), stream: s }).level,
    ).toBeLessThan(top);
    expect(
      warmPolicy('e3').decide({ peerId: 'e3', nowMs: 1200, link: early(150), stream: s }).level,
    ).toBeLessThan(top);
    // A private stream of a few packets an interval reads 0-55 % loss at 20 %: 55 % of 1.5 kB/s fills no queue.
    const small: LinkFigures = { ...steady, sentBytesPerSec: 1500, goodputBytesPerSec: 1500 };
    const sp = warmPolicy('s');
    expect(
      sp.decide({
        peerId: 's',
        nowMs: 1500,
        link: { ...small, lossRate: 0.55, goodputBytesPerSec: 700 },
        stream: s,
      }).level,
    ).toBe(top);
  });

  it('a lossy link stays lossy until its background loss falls below half of lossyLinkRate', () => {
    // 20 % background, then figures of 4 %: the median falls under lossyLinkRate (5 %) but not under 2.5 %.
    const at = (loss: number): LinkFigures => ({
      ...steady,
      lossRate: loss,
      goodputBytesPerSec: 18_000 * (1 - loss),
    });
    const early = (loss: number) => ({ ...at(loss), queue: { riseMs: 150, rateBytesPerSec: 7000 } });
    const run = (id: string, tail: number) => {
      const p = warmPolicy(id);
      let t = 1500;
      for (; t <= 5000; t += 500) p.decide({ peerId: id, nowMs: t, link: at(0.2), stream: s });
      for (; t <= 11_000; t += 500)
        expect(p.decide({ peerId: id, nowMs: t, link: at(tail), stream: s }).level).toBe(top);
      // An early report's rise of 150 ms: SCTP's wait on a lossy link, a queue on a clean one.
      return p.decide({ peerId: id, nowMs: t - 300, link: early(tail), stream: s });
    };
    expect(run('h4', 0.04).changed).toBe(false);
    expect(run('h1', 0.01).level).toBeLessThan(top);
    // Entering takes lossyLinkRate itself: a link that has only ever lost 4 % is clean.
    const c = warmPolicy('c4');
    for (let t = 1500; t <= 6000; t += 500) c.decide({ peerId: 'c4', nowMs: t, link: at(0.04), stream: s });
    expect(c.decide({ peerId: 'c4', nowMs: 6200, link: early(0.04), stream: s }).level).toBeLessThan(top);
  });

  it('a public-only receiver steps past levels that cost it the same', () => {
    // No private stream: levels 2 and 3 both take two public layers.
    const pub = { publicLayerBytesPerSec: PUBLIC, privateBytesPerSec: 0 };
    const p = createDefaultAdaptationPolicy({ warmupMs: 0, initialLevel: 3 });
    const link = { ...steady, sentBytesPerSec: 6000, goodputBytesPerSec: 6000 };
    p.decide({ peerId: 'p', nowMs: 0, link, stream: pub });
    // An age rise alone, twice: one level down that it feels, i.e. one public layer fewer.
    p.decide({ peerId: 'p', nowMs: 1000, link: { ...link, ageP95Ms: 400 }, stream: pub });
    const d = p.decide({ peerId: 'p', nowMs: 2000, link: { ...link, ageP95Ms: 400 }, stream: pub });
    expect(d.publicLayers).toBe(1);
    expect(d.level).toBe(1);
    // The age rose 360 ms above its base: a queue, so a pause while it drains (at most 500 ms).
    expect(d.pauseMs).toBe(410);
  });
});

describe('the default policy on recorded lab links', () => {
  // Figures recorded by `m4sc-send --adapt-log` in the network lab with the adaptation off, so every figure is of
  // the level the stream was sent at (the top). A policy's decisions on them are its decisions on that link for as
  // long as it holds the top; its first step down is where the replay stops being the link's.
  const fixture = (name: string) =>
    JSON.parse(readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)), 'utf8'));
  const replay = (figures: AdaptationContext[]) => {
    const policy = createDefaultAdaptationPolicy();
    return figures.map((ctx) => ({ ctx, d: policy.decide(ctx) }));
  };

  it('keeps a randomly lossy link (20 % each way) at its full rate: its noise is not congestion', () => {
    const { traces } = fixture('lossy-link.json') as {
      traces: { link: string; receiver: string; figures: AdaptationContext[] }[];
    };
    expect(traces.length).toBe(4);
    for (const t of traces) {
      const figures = t.figures.filter((c) => c.link.goodputBytesPerSec !== undefined);
      // The traces hold what stepped such a link down before the background loss was taken into account: an
      // interval's loss of 30 % or more, or goodput under 0.65 of what was sent.
      expect(
        figures.some(
          (c) =>
            (c.link.lossRate ?? 0) >= 0.3 ||
            (t.receiver === 'reconstruct' && c.link.goodputBytesPerSec! < 0.65 * c.link.sentBytesPerSec),
        ),
        `${t.link}, ${t.receiver}`,
      ).toBe(true);
      const steps = replay(t.figures).filter((x) => x.d.level !== top);
      expect(
        steps.map((x) => x.d.reason),
        `${t.link}, ${t.receiver}`,
      ).toEqual([]);
    }
  });

  it('still steps down within 1 s of a bandwidth drop on a recorded clean link', () => {
    const { dropAtMs, figures } = fixture('bandwidth-drop.json') as {
      dropAtMs: number;
      figures: AdaptationContext[];
    };
    const first = replay(figures).find((x) => x.d.level < top);
    expect(first, 'no step down').toBeDefined();
    expect(first!.ctx.nowMs).toBeGreaterThan(dropAtMs);
    expect(first!.ctx.nowMs - dropAtMs).toBeLessThanOrEqual(1000);
    expect(first!.d.pauseMs).toBeGreaterThan(0);
  });

  it('on a lossy link, a bottleneck is still congestion: it steps down and fits within two figures', () => {
    // The seeded fluid bottleneck with 20 % random loss; capacity 60 kB/s, then 9 kB/s from t = 30 s.
    for (const seed of [1, 2, 3]) {
      const trace = run(createDefaultAdaptationPolicy(), 'a', seed, 40, (t) => ({
        capacityBytesPerSec: t <= 30 ? 60_000 : 9000,
        randomLoss: 0.2,
      }));
      expect(
        trace.filter((x) => x.t <= 30 && x.d.level !== top).map((x) => x.d.reason),
        `seed ${seed}`,
      ).toEqual([]);
      const down = trace.find((x) => x.t > 30 && x.d.level < top)!;
      expect(down.t, `seed ${seed}`).toBeLessThanOrEqual(32);
      for (const x of trace.filter((y) => y.t >= 33)) expect(sendRate(x.d)).toBeLessThanOrEqual(9000);
    }
  });
});
