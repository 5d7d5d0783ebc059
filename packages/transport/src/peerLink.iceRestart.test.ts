// ICE restart on a path change: the relays that carry the first path go dead for good (100% loss), so traffic can
// only come back over the candidates a restart creates (each new candidate gets a fresh, clean relay).
import { afterEach, describe, expect, it } from 'vitest';
import { createIceRestartBackoff } from './iceRestart.js';
import { createLoopbackLinkPair, type LoopbackLinkPair } from './loopbackPair.js';
import type { LinkState, PeerLink } from './types.js';

let pair: LoopbackLinkPair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await sleep(20);
  }
  return cond();
}
const states = (link: PeerLink) => {
  const seen: LinkState[] = [];
  link.state$.subscribe((s) => seen.push(s));
  return seen;
};
/** Sends a one-packet public sample every 50 ms; returns a stop function. */
function stream(link: PeerLink): () => void {
  let seq = 0;
  const t = setInterval(() => {
    if (link.state === 'closed' || link.state === 'failed') return;
    link.sendSample('public', {
      seq: seq++,
      captureTsMs: Date.now(),
      op: { n: 'op' },
      packets: [new Uint8Array(200)],
    });
  }, 50);
  return () => clearInterval(t);
}

const FAST = { statsIntervalMs: 250, staleAfterMs: 1000 };

describe('peerLink ICE restart', () => {
  it('a link whose path dies recovers through an ICE restart, channels and stream intact', async () => {
    pair = await createLoopbackLinkPair({ link: FAST, impairment: {} });
    const offererStates = states(pair.offerer);
    const answererStates = states(pair.answerer);
    let received = 0;
    pair.answerer.samples$.subscribe(() => received++);
    const controlSeen: unknown[] = [];
    pair.answerer.control$.subscribe((m) => controlSeen.push(m));
    const stop = stream(pair.offerer);
    try {
      expect(await until(() => received > 5, 5000)).toBe(true);
      // The old path is gone: every relay that exists now drops everything, for good.
      const oldRelays = [...pair.relays];
      for (const r of oldRelays) r.setImpairment({ lossPct: 100 });
      expect(await until(() => pair!.offerer.state === 'disconnected', 5000)).toBe(true);
      const downAt = Date.now();
      const before = received;
      expect(await until(() => pair!.offerer.state === 'connected' && received > before + 5, 10_000)).toBe(
        true,
      );
      expect(pair.offerer.iceRestarts).toBeGreaterThanOrEqual(1);
      expect(pair.answerer.iceRestarts).toBeGreaterThanOrEqual(1);
      // New candidates came with the restart, and new relays carry the traffic now.
      expect(pair.relays.length).toBeGreaterThan(oldRelays.length);
      console.log(`ICE restart: stream back ${Date.now() - downAt} ms after the link went disconnected`);
      // The reliable control channel survived the restart.
      expect(pair.offerer.sendControl({ after: 'restart' })).toBe(true);
      expect(await until(() => controlSeen.length === 1, 5000)).toBe(true);
      expect(controlSeen).toEqual([{ after: 'restart' }]);
      // (state$ starts with the current state: both were connected when subscribed.)
      expect(offererStates).toEqual(['connected', 'disconnected', 'connected']);
      expect(answererStates[0]).toBe('connected');
      // The answerer's outage ends on a pong to its own ping sent during it (every 250 ms here), which can come
      // after the offerer's: wait for it (it failed 1 of 6 runs at a612077, and once in CI, asserting at once).
      expect(await until(() => pair!.answerer.state === 'connected', 5000)).toBe(true);
      expect(answererStates.at(-1)).toBe('connected');
    } finally {
      stop();
    }
  }, 30_000);

  it('without ICE restart the same path change leaves the link disconnected, then failed', async () => {
    pair = await createLoopbackLinkPair({
      link: { ...FAST, disconnectedTimeoutMs: 3000 },
      offerer: { iceRestart: false },
      impairment: {},
    });
    const stop = stream(pair.offerer);
    try {
      for (const r of pair.relays) r.setImpairment({ lossPct: 100 });
      expect(await until(() => pair!.offerer.state === 'disconnected', 5000)).toBe(true);
      await sleep(1500);
      expect(pair.offerer.state).toBe('disconnected');
      expect(pair.offerer.iceRestarts).toBe(0);
      expect(await until(() => pair!.offerer.state === 'failed', 5000)).toBe(true);
    } finally {
      stop();
    }
  }, 30_000);

  it('restartIce() is the offerer’s: the answerer refuses it with InvalidStateError', async () => {
    pair = await createLoopbackLinkPair({ link: FAST });
    expect(() => pair!.answerer.restartIce('test')).toThrow(/offerer restarts ICE/);
    pair.offerer.restartIce('test: restart on a healthy link');
    expect(await until(() => pair!.answerer.iceRestarts === 1, 5000)).toBe(true);
    await sleep(500);
    expect(pair.offerer.state).toBe('connected');
  }, 30_000);

  it('the default ICE-restart policy restarts at once, then after 1, 2, 3, 3, … s', () => {
    const p = createIceRestartBackoff();
    expect([1, 2, 3, 4, 9].map((attempt) => p.nextRestartDelayMs({ attempt, disconnectedForMs: 0 }))).toEqual(
      [0, 1000, 2000, 3000, 3000],
    );
    expect(() => createIceRestartBackoff([])).toThrow(TypeError);
  });
});
