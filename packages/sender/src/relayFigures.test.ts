import { describe, expect, it } from 'vitest';
import { createDefaultAdaptationPolicy, DEFAULT_ADAPTATION_LADDER, type LinkFigures } from './adaptation.js';
import {
  freshRelayReport,
  mergeRelayFigures,
  parseRelayReport,
  RELAY_REPORT_MAX_AGE_MS,
} from './relayFigures.js';

describe('parseRelayReport', () => {
  it('accepts what m4sc-recv sends, with or without loss and age', () => {
    const r = { t: 'relay-report', layers: 2, bytesPerSec: 41000, samples: 15, lossRate: 0.02, ageP95Ms: 80 };
    expect(parseRelayReport(r)).toEqual({
      layers: 2,
      bytesPerSec: 41000,
      samples: 15,
      lossRate: 0.02,
      ageP95Ms: 80,
    });
    expect(parseRelayReport({ t: 'relay-report', layers: 1, bytesPerSec: 0, samples: 0 })).toEqual({
      layers: 1,
      bytesPerSec: 0,
      samples: 0,
    });
  });
  it('refuses wrong types, out-of-range and non-finite values', () => {
    const ok = { t: 'relay-report', layers: 2, bytesPerSec: 1, samples: 1 };
    for (const bad of [
      null,
      [],
      'relay-report',
      { ...ok, t: 'relay' },
      { ...ok, layers: 0 },
      { ...ok, layers: 17 },
      { ...ok, layers: 1.5 },
      { ...ok, bytesPerSec: -1 },
      { ...ok, bytesPerSec: Number.POSITIVE_INFINITY },
      { ...ok, samples: '3' },
      { ...ok, lossRate: 1.5 },
      { ...ok, lossRate: Number.NaN },
      { ...ok, ageP95Ms: 'slow' },
    ])
      expect(parseRelayReport(bad), JSON.stringify(bad)).toBeUndefined();
  });
  it('a report older than RELAY_REPORT_MAX_AGE_MS is not used', () => {
    const r = { layers: 1, bytesPerSec: 1, samples: 1, atMs: 1000 };
    expect(freshRelayReport(r, 1000 + RELAY_REPORT_MAX_AGE_MS)).toBe(r);
    expect(freshRelayReport(r, 1001 + RELAY_REPORT_MAX_AGE_MS)).toBeUndefined();
    expect(freshRelayReport(undefined, 0)).toBeUndefined();
  });
});

// A relay receiver's direct link: control and a small private stream only, perfectly clean.
const direct: LinkFigures = {
  rttMs: 20,
  lossRate: 0,
  sentBytesPerSec: 2000,
  goodputBytesPerSec: 2000,
  reportSentBytesPerSec: 2000,
  queuedBytes: 0,
  ageP95Ms: 30,
  droppedSamples: 0,
};

describe('mergeRelayFigures', () => {
  it('adds the relay path to what was sent and what arrived; loss and age are the worse path', () => {
    const m = mergeRelayFigures(
      direct,
      { layers: 2, bytesPerSec: 30_000, samples: 15, lossRate: 0.1, ageP95Ms: 400 },
      36_000,
    );
    expect(m).toEqual({
      ...direct,
      sentBytesPerSec: 38_000,
      reportSentBytesPerSec: 38_000,
      goodputBytesPerSec: 32_000,
      lossRate: 0.1,
      ageP95Ms: 400,
    });
    expect(mergeRelayFigures(direct, undefined, 36_000)).toBe(direct);
  });

  it('the policy takes a relay receiver down to the base layer when the relay path is congested, though the direct link is clean', () => {
    // Public layers of 3, 3 and 6 kB/s as encoded; the receiver's access link carries 5 kB/s of them.
    const layers = [3000, 3000, 6000];
    const top = DEFAULT_ADAPTATION_LADDER.length - 1;
    const run = (withRelay: boolean) => {
      const policy = createDefaultAdaptationPolicy();
      let taken = layers.length;
      let age = 80;
      let d: ReturnType<typeof policy.decide> | undefined;
      for (let t = 0; t < 12; t++) {
        const sent = layers.slice(0, taken).reduce((a, b) => a + b, 0);
        const through = Math.min(sent, 5000);
        age = sent > 5000 ? age + 400 : Math.max(80, age - 200);
        const report = { layers: taken, bytesPerSec: through, samples: 15, lossRate: 0, ageP95Ms: age };
        d = policy.decide({
          peerId: 'r',
          nowMs: t * 1000,
          link: withRelay ? mergeRelayFigures(direct, report, sent) : direct,
          stream: { publicLayerBytesPerSec: layers, privateBytesPerSec: 0 },
        });
        taken = d.publicLayers;
      }
      return d!;
    };
    const blind = run(false);
    const seen = run(true);
    expect(blind.publicLayers).toBe(3); // the direct link alone sees nothing wrong
    expect(seen.publicLayers).toBeLessThan(3);
    expect(seen.level).toBeLessThan(top);
  });
});
