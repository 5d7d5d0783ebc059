import { describe, expect, it } from 'vitest';
import { decodeControl, encodeControl } from './controlCodec.js';
import { WIRE_VERSION } from './defaults.js';
import { MalformedFrameError } from './errors.js';
import { packValue } from './framer.js';
import type { LinkReport } from './types.js';

const report: LinkReport = {
  timestampMs: 1000,
  lossRate: { public: 0.1, private: undefined },
  receivedBytesPerSec: 25_000,
  age: { p50Ms: 40, p95Ms: 90, count: 12 },
  drops: { stale: 0, late: 1, duplicate: 0, malformed: 0, backpressure: 0 },
};

describe('link-report on the wire', () => {
  it('carries an early report’s queue, and leaves a regular report as it was', () => {
    const early = { ...report, queue: { riseMs: 180.5, rateBytesPerSec: 24_000 } };
    expect(decodeControl(encodeControl({ kind: 'link-report', report: early }))).toEqual({
      kind: 'link-report',
      report: early,
    });
    const regular = decodeControl(encodeControl({ kind: 'link-report', report }));
    expect(regular).toEqual({ kind: 'link-report', report });
    expect('queue' in (regular as { report: LinkReport }).report).toBe(false);
  });

  it('carries the reporter’s host stall when it had one, and refuses a malformed one', () => {
    const stalled = { ...report, stallMs: 180 };
    expect(decodeControl(encodeControl({ kind: 'link-report', report: stalled }))).toEqual({
      kind: 'link-report',
      report: stalled,
    });
    for (const stallMs of [-1, 'a', Number.NaN, [1]]) {
      const body = { ...report, lossRate: { public: 0.1, private: null }, stallMs };
      const bytes = packValue([WIRE_VERSION, 3, body]);
      expect(() => decodeControl(bytes)).toThrow(/link-report stallMs is invalid/);
    }
  });

  it('carries the window a report covers, and refuses a malformed one', () => {
    const sliding = { ...report, intervalMs: 500 };
    expect(decodeControl(encodeControl({ kind: 'link-report', report: sliding }))).toEqual({
      kind: 'link-report',
      report: sliding,
    });
    const afterOutage = { ...report, intervalMs: 500, outageMs: 480 };
    expect(decodeControl(encodeControl({ kind: 'link-report', report: afterOutage }))).toEqual({
      kind: 'link-report',
      report: afterOutage,
    });
    expect(() =>
      decodeControl(packValue([WIRE_VERSION, 3, { ...report, lossRate: { public: 0 }, outageMs: -1 }])),
    ).toThrow(/link-report outageMs is invalid/);
    for (const intervalMs of [0, -5, 'a', Number.POSITIVE_INFINITY]) {
      const body = { ...report, lossRate: { public: 0.1, private: null }, intervalMs };
      const bytes = packValue([WIRE_VERSION, 3, body]);
      expect(() => decodeControl(bytes)).toThrow(/link-report intervalMs is invalid/);
    }
  });

  it('refuses a malformed queue with a MalformedFrameError naming it', () => {
    for (const queue of [[1], [-1, 5], ['a', 5], { riseMs: 1, rateBytesPerSec: 2 }, [1, Number.NaN]]) {
      const body = { ...report, lossRate: { public: 0.1, private: null }, queue };
      const bytes = packValue([WIRE_VERSION, 3, body]);
      expect(() => decodeControl(bytes)).toThrow(MalformedFrameError);
      expect(() => decodeControl(bytes)).toThrow(/link-report queue is invalid/);
    }
  });
});
