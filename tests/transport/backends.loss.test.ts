// Does node-datachannel's `maxRetransmits: 0` really abandon lost messages? Two node-datachannel peers whose
// every packet goes through the userspace UDP relay dropping 5% each way (the werift version of this check is
// packages/transport/src/peerLink.loss.test.ts).
import { type LinkStats, percentile } from '@m4sc/transport';
import {
  createLoopbackLinkPair,
  createNodeDatachannelPeerConnection,
  type LoopbackLinkPair,
} from '@m4sc/transport/node';
import { afterEach, describe, expect, it } from 'vitest';
import { retrySetupRace } from './setupRace.js';

const until = async (cond: () => boolean, timeoutMs: number) => {
  const t0 = Date.now();
  while (!cond() && Date.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 20));
};

let pair: LoopbackLinkPair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

describe('node-datachannel under 5% packet loss', () => {
  it('abandons lost public packets (no retransmission, no stall), while control stays reliable and ordered', async () => {
    pair = await retrySetupRace('backends.loss', () =>
      createLoopbackLinkPair({
        impairment: { lossPct: 0 },
        seed: 2024,
        link: { statsIntervalMs: 500 },
        createPeerConnection: (_side, o) => createNodeDatachannelPeerConnection(o),
      }),
    );
    const { offerer: tx, answerer: rx } = pair;
    pair.setImpairment({ lossPct: 5 });
    const SAMPLES = 400;
    const CONTROLS = 100;
    const arrivals: number[] = [];
    const latenciesMs: number[] = [];
    const control: number[] = [];
    let last: LinkStats | undefined;
    rx.samples$.subscribe((s) => {
      arrivals.push(s.seq);
      latenciesMs.push(s.firstArrivalMs - s.captureTsMs);
    });
    rx.control$.subscribe((m) => control.push((m as { i: number }).i));
    tx.stats$.subscribe((s) => {
      last = s;
    });
    for (let i = 0; i < SAMPLES; i++) {
      tx.sendSample('public', {
        seq: i,
        captureTsMs: Date.now(),
        op: { i },
        packets: [new Uint8Array(1000).fill(i & 0xff)],
      });
      if (i % 4 === 0) tx.sendControl({ i: i / 4 });
      await new Promise((r) => setTimeout(r, 5));
    }
    await until(() => control.length === CONTROLS, 15_000);
    await new Promise((r) => setTimeout(r, 1200)); // stragglers, and one more stats interval

    let outOfOrder = 0;
    for (let k = 1; k < arrivals.length; k++) if (arrivals[k]! < arrivals[k - 1]!) outOfOrder++;
    latenciesMs.sort((a, b) => a - b);
    const relay = pair.relays.map((r) => r.stats());
    const dropped = relay.reduce((n, r) => n + r.forwardDropped + r.reverseDropped, 0);
    const senderDropped = last!.sendDroppedSamples.backpressure + last!.sendDroppedSamples.stale;
    const onWire = SAMPLES - senderDropped;
    const summary = {
      sent: SAMPLES,
      senderDropped,
      received: arrivals.length,
      outOfOrder,
      latencyP50Ms: percentile(latenciesMs, 50),
      latencyP95Ms: percentile(latenciesMs, 95),
      latencyMaxMs: latenciesMs.at(-1),
      controlReceived: control.length,
      relayDropped: dropped,
    };
    console.info('[node-datachannel loss test]', JSON.stringify(summary));

    expect(dropped).toBeGreaterThan(0);
    // Lost messages are abandoned: fewer arrive than went on the wire (a reliable channel would deliver all)…
    expect(arrivals.length).toBeLessThan(onWire);
    // …but no more are missing than the relay dropped, and the association never stalls.
    expect(arrivals.length).toBeGreaterThanOrEqual(onWire - dropped);
    expect(arrivals.length).toBeGreaterThan(0.85 * SAMPLES);
    // No retransmission wait: a lost packet costs that packet only (werift's tail here is ~0.9 s, its RTO).
    expect(summary.latencyP95Ms).toBeLessThan(500);
    expect(control).toEqual([...Array(CONTROLS).keys()]);
  });
});
