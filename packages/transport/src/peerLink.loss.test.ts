// Partial reliability under induced loss: two werift peers whose every packet goes through a userspace UDP
// relay dropping 5% in each direction (no root needed; this kernel has no netem). Needs the werift patch.
import { afterEach, describe, expect, it } from 'vitest';
import { percentile } from './linkMonitor.js';
import { createLoopbackLinkPair, type LoopbackLinkPair } from './loopbackPair.js';
import type { LinkStats, PeerConnectionLike } from './types.js';
import { createWeriftPeerConnection } from './werift.js';

const until = async (cond: () => boolean, timeoutMs: number) => {
  const t0 = Date.now();
  while (!cond() && Date.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 20));
};

let pair: LoopbackLinkPair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

describe('PeerLink under 5% packet loss', () => {
  it('abandons lost public packets without delaying later ones, while control stays reliable and ordered', async () => {
    // The offerer's werift SCTP association, to count what it dropped unsent (patch item 10).
    let offererPc: PeerConnectionLike | undefined;
    pair = await createLoopbackLinkPair({
      impairment: { lossPct: 0 },
      seed: 2024,
      link: { statsIntervalMs: 500 },
      createPeerConnection: (side, o) => {
        const pc = createWeriftPeerConnection(o);
        if (side === 'offerer') offererPc = pc;
        return pc;
      },
    });
    const { offerer: tx, answerer: rx } = pair;
    pair.setImpairment({ lossPct: 5 });
    const SAMPLES = 400;
    const CONTROLS = 100;
    const arrivals: number[] = [];
    const latenciesMs: number[] = [];
    const control: number[] = [];
    const senderStats: LinkStats[] = [];
    rx.samples$.subscribe((s) => {
      arrivals.push(s.seq);
      latenciesMs.push(s.firstArrivalMs - s.captureTsMs);
    });
    rx.control$.subscribe((m) => control.push((m as { i: number }).i));
    tx.stats$.subscribe((s) => senderStats.push(s));

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
    await new Promise((r) => setTimeout(r, 1200)); // stragglers, and one more link report

    let outOfOrder = 0;
    for (let k = 1; k < arrivals.length; k++) if (arrivals[k]! < arrivals[k - 1]!) outOfOrder++;
    latenciesMs.sort((a, b) => a - b);
    const relay = pair.relays.map((r) => r.stats());
    const dropped = relay.reduce((n, r) => n + r.forwardDropped + r.reverseDropped, 0);
    const forwarded = relay.reduce((n, r) => n + r.forwardPackets + r.reversePackets, 0);
    const reported = senderStats.map((s) => s.remote?.lossRate.public).filter((x) => x !== undefined);
    const last = senderStats.at(-1)!;
    const senderDropped = last.sendDroppedSamples.backpressure + last.sendDroppedSamples.stale;
    // Samples that waited in werift's send queue over its age cap while a loss held the window are dropped
    // there, unsent (measured 45-55 of 400 here; without the cap they arrived up to ~1 s late: p95 ~950 ms).
    const staleInSctp = (
      offererPc as unknown as { sctpTransport: { sctp: { staleMessagesDropped: number } } }
    ).sctpTransport.sctp.staleMessagesDropped;
    const onWire = SAMPLES - senderDropped - staleInSctp;
    const summary = {
      sent: SAMPLES,
      senderDropped,
      staleInSctp,
      received: arrivals.length,
      outOfOrder,
      latencyP50Ms: percentile(latenciesMs, 50),
      latencyP95Ms: percentile(latenciesMs, 95),
      latencyMaxMs: latenciesMs.at(-1),
      controlReceived: control.length,
      relayDropPct: (100 * dropped) / forwarded,
      receiverReportedLoss: reported.map((x) => x!.toFixed(3)).join(','),
    };
    console.info('[loss test]', JSON.stringify(summary));

    expect(dropped).toBeGreaterThan(0);
    // Lost messages are abandoned: fewer arrive than went on the wire (unpatched werift retransmits them all)…
    expect(arrivals.length).toBeLessThan(onWire);
    expect(arrivals.length).toBeGreaterThan(0.85 * onWire);
    // …and none arrives late from a retransmission: no reordering on a jitter-free path, typical latency low.
    expect(outOfOrder).toBeLessThanOrEqual(2);
    expect(percentile(latenciesMs, 50)).toBeLessThan(20);
    // The tail: a loss that leaves too little behind it for three gap reports (a tail loss) waits for T3-rtx. At
    // werift's 1 s RTO floor that held the whole link (p50 ~245 ms, p95 ~290-380 ms, ~190 of 400 samples dropped
    // unsent in about half the runs); at the patched 250 ms floor (item 11), what waits longer than 150 ms is
    // dropped unsent (item 10) and the rest goes: measured p95 67-111 ms, max <= 163 ms, also with both cores busy.
    expect(percentile(latenciesMs, 95)).toBeLessThan(250);
    // Control is reliable and ordered through the same loss.
    expect(control).toEqual([...Array(CONTROLS).keys()]);
    // The sender learns the receiver's loss through link reports.
    expect(reported.some((x) => x! > 0)).toBe(true);
  });
});

describe('PeerLink under 20% packet loss', () => {
  /**
   * 8 s of a 64×64 stream at 15 fps on the 20 %-loss lab link: 4 packets of 1000 B a sample, through the relay
   * dropping 20 % each way; the congestion window's floor as given (patch item 15).
   */
  async function lossyStream(cwndFloorMtus: number) {
    let offerer: PeerConnectionLike | undefined;
    pair = await createLoopbackLinkPair({
      impairment: { lossPct: 0 },
      seed: 77,
      createPeerConnection: (side, o) => {
        const pc = createWeriftPeerConnection({ ...o, cwndFloorMtus });
        if (side === 'offerer') offerer = pc;
        return pc;
      },
    });
    const sctp = (offerer as unknown as { sctpTransport: { sctp: { staleMessagesDropped: number } } })
      .sctpTransport.sctp;
    const { offerer: tx, answerer: rx } = pair;
    pair.setImpairment({ lossPct: 20 });
    let packets = 0;
    rx.samples$.subscribe((x) => {
      packets += x.received;
    });
    const N = 120;
    const t0 = Date.now();
    for (let i = 0; i < N; i++) {
      const payload = Array.from({ length: 4 }, () => new Uint8Array(1000));
      tx.sendSample('public', { seq: i, captureTsMs: Date.now(), op: { i }, packets: payload });
      await new Promise((r) => setTimeout(r, t0 + ((i + 1) * 1000) / 15 - Date.now()));
    }
    await new Promise((r) => setTimeout(r, 800));
    const out = { delivered: packets / (4 * N), stale: sctp.staleMessagesDropped };
    await pair.close();
    pair = undefined;
    return out;
  }

  it("keeps the path's own loss with the congestion window's floor; werift's own window does no better", async () => {
    // Unpatched, every loss halves the window to its 4-MTU floor and each T3-rtx (about twice a second here) takes it
    // to 1 MTU: a loss then has too few chunks behind it for three gap reports, and what waits behind it goes
    // stale. Measured (netlab/probes/sctp-loss.mjs, 225 samples, two seeds): 69–72 % of the packets delivered,
    // 80–128 dropped stale, p95 199–237 ms without a floor; 80 %, none, 70 ms with 8 MTUs.
    const floor = await lossyStream(8);
    const none = await lossyStream(0);
    console.info('[20% loss]', JSON.stringify({ floor, none }));
    // With the floor, delivery is the path's own (0.8 of the packets, less what the relay's draw took) and nearly
    // nothing goes stale. How much the unpatched window loses depends on the host's timing: on a loaded host it
    // once dropped none stale (load average 9), and once delivered 0.8 like the floor (a CI run). So the floor is
    // held to the path, and the unpatched run only to doing no better than the floor beyond noise.
    expect(floor.delivered).toBeGreaterThan(0.72);
    expect(floor.stale).toBeLessThanOrEqual(0.02 * 4 * 120);
    expect(floor.delivered).toBeGreaterThan(none.delivered - 0.04);
    for (const cwndFloorMtus of [-1, 1.5, 65]) {
      expect(() => createWeriftPeerConnection({ mode: 'loopback', cwndFloorMtus })).toThrow(
        /cwndFloorMtus must be/,
      );
    }
  }, 60_000);
});
