// Probe (not used by the CLIs or tests): reliable, ordered control messages through the userspace relay under
// wifi-bad's burst loss, in one process; prints what arrived, whether in order, the longest gap, and werift's
// T3-rtx expiries. It found werift patch item 12 (docs/NETLAB.md, "werift's retransmission timer").
//   PAD=2500 DUR=30 SEED=4 RTO=250 node netlab/probes/reliable-burst.mjs     (after `npx tsc -b`)
// RTO: the link's rtoMinMs; PAD: message bytes; DUR: seconds, the worse spell from 40 % to 70 % of it.
import { createLoopbackLinkPair, createWeriftPeerConnection } from '@m4sc/transport/node';

const rtoMinMs = Number(process.env.RTO ?? 250);
const seed = Number(process.env.SEED ?? 1);
const dur = Number(process.env.DUR ?? 20);
const pad = 'x'.repeat(Number(process.env.PAD ?? 600));
let offererPc;
const pair = await createLoopbackLinkPair({
  seed,
  impairment: { lossPct: 0 },
  createPeerConnection: (side, o) => {
    const pc = createWeriftPeerConnection({ ...o, rtoMinMs });
    if (side === 'offerer') offererPc = pc;
    return pc;
  },
});
const good = { burst: { pGoodToBad: 0.02, pBadToGood: 0.3, lossInBadPct: 60 }, delayMs: 10, jitterMs: 15 };
const bad = { burst: { pGoodToBad: 0.08, pBadToGood: 0.2, lossInBadPct: 80 }, delayMs: 10, jitterMs: 30 };
const sctp = offererPc.sctpTransport.sctp;
let t3 = 0;
const expired = sctp.timer3Expired;
sctp.timer3Expired = () => {
  t3++;
  expired();
};
const t0 = Date.now();
const arrivals = [];
pair.answerer.control$.subscribe((m) => arrivals.push([Date.now() - t0, m.i]));
let sent = 0;
while (Date.now() - t0 < dur * 1000) {
  const t = Date.now() - t0;
  pair.setImpairment(t > dur * 400 && t < dur * 700 ? bad : good);
  pair.offerer.sendControl({ i: sent++, pad });
  await new Promise((r) => setTimeout(r, 66));
}
await new Promise((r) => setTimeout(r, 3000));
let maxGapMs = 0;
let last = 0;
for (const [t] of arrivals) {
  maxGapMs = Math.max(maxGapMs, t - last);
  last = t;
}
maxGapMs = Math.max(maxGapMs, Date.now() - t0 - 3000 - last);
const inOrder = arrivals.every(([, k], j) => k === j);
console.log(JSON.stringify({ rtoMinMs, seed, sent, got: arrivals.length, inOrder, maxGapMs, t3 }));
await pair.close();
process.exit(0);
