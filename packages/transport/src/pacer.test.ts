import { describe, expect, it } from 'vitest';
import { createPacer, TokenBucket } from './pacer.js';

describe('TokenBucket', () => {
  it('refills at its rate up to its depth and lets one send overdraw it', () => {
    const b = new TokenBucket(1000, 500, 0);
    expect(b.canSend(0)).toBe(true);
    b.take(1500, 0); // larger than the bucket: allowed, leaves a 1000-byte debt
    expect(b.canSend(500)).toBe(false);
    expect(b.waitMs(500)).toBe(501);
    expect(b.canSend(1001)).toBe(true);
    expect(b.tokens(10_000)).toBe(500);
  });

  it('rejects a zero rate', () => {
    expect(() => new TokenBucket(0, 1, 0)).toThrow(TypeError);
  });
});

describe('createPacer', () => {
  it('holds several sources to one rate, round-robin', async () => {
    const pacer = createPacer({ rateBytesPerSec: 200_000, burstBytes: 1000, sliceBytes: 4000 });
    const sent = [0, 0];
    const regs = [0, 1].map((i) =>
      pacer.register({
        pump: () => {
          sent[i]! += 1000;
          return 1000;
        },
      }),
    );
    const t0 = Date.now();
    for (const r of regs) r.wake();
    await new Promise((r) => setTimeout(r, 300));
    for (const r of regs) r.unregister();
    const seconds = (Date.now() - t0) / 1000;
    const rate = (sent[0]! + sent[1]!) / seconds;
    expect(rate).toBeGreaterThan(100_000);
    expect(rate).toBeLessThan(300_000);
    expect(Math.abs(sent[0]! - sent[1]!)).toBeLessThanOrEqual(2000);
  });
});
