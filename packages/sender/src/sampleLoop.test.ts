import { silentLogger } from '@m4sc/signaling';
import { describe, expect, it } from 'vitest';
import { createSampleLoop } from './sampleLoop.js';
import type { Session } from './session.js';
import type { Source } from './sources/source.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the sample loop', () => {
  it("measures how much the sender's own capture-to-link delay rose (what every receiver's ages include)", async () => {
    let index = 0;
    const source: Source = {
      description: 'test',
      modality: 'text',
      next: async () => ({ index: index++, text: 'x' }),
      close() {},
    };
    // The encode takes 5 ms, then (a busy host) 150 ms. Margins are wide: timers on a loaded host run late.
    let encodeMs = 5;
    const loop = createSampleLoop({
      source,
      fps: 10,
      connected: () => [{} as Session],
      senderClosed: () => false,
      send: async () => {
        await sleep(encodeMs);
        return [];
      },
      onSampleSent: undefined,
      log: silentLogger,
    });
    try {
      await sleep(800);
      expect(loop.samples).toBeGreaterThan(4);
      // Steady: the recent median is the minimum, give or take the timers.
      expect(loop.delayRiseMs()).toBeLessThan(50);
      encodeMs = 150;
      await sleep(900);
      // The last 500 ms of samples took ~145 ms longer than the quickest of the last 10 s.
      expect(loop.delayRiseMs()).toBeGreaterThan(90);
      expect(loop.delayRiseMs()).toBeLessThan(600);
    } finally {
      await loop.stop();
      loop.close();
    }
  });
});
