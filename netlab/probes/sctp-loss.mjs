// Probe (not used by the CLIs or tests): samples of P packets of 1000 B at FPS through the userspace relay with LOSS %
// random loss each way (the 20 %-loss lab link's full rate is P=4, its base layer P=1), tracing the sender's werift
// SCTP every 500 ms: RTO ms, congestion window, flight size, outbound queue, sent queue (chunks), T3-rtx expiries so
// far, packets delivered in the window; then latency p50/p95 of the samples, T3-rtx expiries, packets delivered and
// messages dropped stale in werift's send queue. CWND sets the congestion window's floor in MTUs (patch item 15;
// default the link's, SCTP_CWND_FLOOR_MTUS; 0 = werift's own). It measured item 15 (packages/transport/README).
//   SEED=3 LOSS=20 P=4 FPS=15 N=225 CWND=0 node netlab/probes/sctp-loss.mjs     (after `npx tsc -b`)
import { createLoopbackLinkPair, createWeriftPeerConnection } from '@m4sc/transport/node';

const env = (k, d) => Number(process.env[k] ?? d);
const [N, P, fps] = [env('N', 225), env('P', 4), env('FPS', 15)];
const pcs = {};
const pair = await createLoopbackLinkPair({
  impairment: { lossPct: 0 },
  seed: env('SEED', 3),
  createPeerConnection: (side, o) =>
    (pcs[side] = createWeriftPeerConnection({
      ...o,
      ...(process.env.CWND ? { cwndFloorMtus: env('CWND', 8) } : {}),
    })),
});
const { offerer: tx, answerer: rx } = pair;
pair.setImpairment({ lossPct: env('LOSS', 20) });
const sctp = pcs.offerer.sctpTransport.sctp;
let t3 = 0;
const orig = sctp.timer3Expired;
sctp.timer3Expired = () => {
  t3++;
  orig();
};
const t0 = Date.now();
const trace = [];
let got = 0;
let lastGot = 0;
const lat = [];
rx.samples$.subscribe((s) => {
  got += s.received;
  lat.push(Date.now() - s.captureTsMs);
});
const iv = setInterval(
  () =>
    trace.push([
      Date.now() - t0,
      Math.round(sctp.rto * 1000),
      sctp.cwnd,
      sctp.flightSize,
      sctp.outboundQueue.length,
      sctp.sentQueue.length,
      t3,
      got,
    ]),
  100,
);
for (let i = 0; i < N; i++) {
  tx.sendSample('public', {
    seq: i,
    captureTsMs: Date.now(),
    op: { i },
    packets: Array.from({ length: P }, () => new Uint8Array(1000)),
  });
  await new Promise((r) => setTimeout(r, t0 + ((i + 1) * 1000) / fps - Date.now()));
}
clearInterval(iv);
// print per 500 ms: rto, cwnd, flight, outQ, sentQ, t3 count, packets got in the window
for (let i = 4; i < trace.length; i += 5) {
  const r = trace[i];
  console.log(r.slice(0, 7).join('\t'), '\tgot+', r[7] - lastGot);
  lastGot = r[7];
}
const q = (p) => [...lat].sort((a, b) => a - b)[Math.floor(p * lat.length)];
console.log(
  'p50',
  q(0.5),
  'p95',
  q(0.95),
  'samples',
  lat.length,
  't3 expiries',
  t3,
  'delivered',
  got,
  'of',
  N * P,
  'stale dropped',
  sctp.staleMessagesDropped,
);
await pair.close();
process.exit(0);
