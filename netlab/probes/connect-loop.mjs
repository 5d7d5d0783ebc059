// Probe (not used by the CLIs or tests): times N loopback link set-ups (offer, answer, ICE, DTLS, SCTP, channels
// open) for a pair of backends: PAIR=ww (werift → werift), wn, nw, nn (n: node-datachannel). It measured the
// DTLS-role and ClientHello-wait changes (docs/BENCHMARKS.md, "Connect time").
//   PAIR=nn N=60 node netlab/probes/connect-loop.mjs     (after `npx tsc -b`)
// SIGNAL=w|n: instead, N receivers join one at a time through a real m4sc-signal server, as the transport bench's
// "Time to connect a receiver" does (bench/lib/connectTime.mjs), with that backend on both sides.
// DTLS_DELAY=ms: werift's dtlsClientDelayMs instead of the link's DTLS_CLIENT_DELAY_MS.
import {
  createLoopbackLinkPair,
  createNodeDatachannelPeerConnection,
  createWeriftPeerConnection,
} from '@m4sc/transport/node';

import { measureConnectTime } from '../../bench/lib/connectTime.mjs';

const factories = {
  w: (o) =>
    createWeriftPeerConnection(
      process.env.DTLS_DELAY ? { ...o, dtlsClientDelayMs: Number(process.env.DTLS_DELAY) } : o,
    ),
  n: createNodeDatachannelPeerConnection,
};
const sorted = (xs) => xs.map(Math.round).sort((x, y) => x - y);
if (process.env.SIGNAL) {
  const create = factories[process.env.SIGNAL];
  const trials = await measureConnectTime({
    trials: Number(process.env.N ?? 20),
    createPeerConnection: () => create({ mode: 'loopback' }),
  });
  const connected = sorted(trials.map((t) => t.connectedMs));
  const first = sorted(trials.map((t) => t.firstSampleMs));
  const mid = (xs) => xs[xs.length >> 1];
  console.log(
    `signal ${process.env.SIGNAL}: link connected p50 ${mid(connected)} ms (max ${connected.at(-1)}), ` +
      `first sample p50 ${mid(first)} ms (max ${first.at(-1)}), failed ${trials.filter((t) => t.error).length}`,
  );
  process.exit(0);
}
const [offerer, answerer] = (process.env.PAIR ?? 'ww').split('');
const times = [];
for (let i = 0; i < Number(process.env.N ?? 20); i++) {
  const t0 = Date.now();
  const pair = await createLoopbackLinkPair({
    createPeerConnection: (side, o) => factories[side === 'offerer' ? offerer : answerer](o),
  });
  times.push(Date.now() - t0);
  await pair.close();
}
times.sort((x, y) => x - y);
const over = times.filter((x) => x > 500).length;
console.log(
  `${process.env.PAIR ?? 'ww'} p50 ${times[times.length >> 1]} ms, max ${times.at(-1)} ms, over 500 ms: ${over} of ${times.length}`,
);
process.exit(0);
