// Probe (not used by the CLIs or tests): multi-packet samples on the public channel through the userspace relay
// with random loss (and optional delay/jitter); prints how many samples arrived complete and with holes, and how
// long after capture each kind was emitted. It measured the reassembler's hole rule (packages/transport/README,
// "Reassembly and freshness").
//   SEED=3 LOSS=5 FPS=15 N=225 P=4 JITTER=0 DELAY=0 node netlab/probes/holed-samples.mjs     (after `npx tsc -b`)
import { createLoopbackLinkPair } from '@m4sc/transport/node';

const env = (k, d) => Number(process.env[k] ?? d);
const [N, P, fps] = [env('N', 225), env('P', 4), env('FPS', 15)];
const pair = await createLoopbackLinkPair({ impairment: { lossPct: 0 }, seed: env('SEED', 3) });
const { offerer: tx, answerer: rx } = pair;
pair.setImpairment({ lossPct: env('LOSS', 5), delayMs: env('DELAY', 0), jitterMs: env('JITTER', 0) });
let stats;
rx.stats$.subscribe((s) => {
  stats = s;
});
const complete = [];
const holed = [];
rx.samples$.subscribe((s) => (s.complete ? complete : holed).push(Date.now() - s.captureTsMs));
for (let i = 0; i < N; i++) {
  const packets = Array.from({ length: P }, () => new Uint8Array(1000));
  tx.sendSample('public', { seq: i, captureTsMs: Date.now(), op: { i }, packets });
  await new Promise((r) => setTimeout(r, 1000 / fps));
}
await new Promise((r) => setTimeout(r, 1500));
const q = (a, p) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p * a.length))];
console.log(
  JSON.stringify({
    complete: complete.length,
    withHoles: holed.length,
    completeP50: q(complete, 0.5),
    completeP95: q(complete, 0.95),
    holesP50: q(holed, 0.5),
    holesP95: q(holed, 0.95),
    latePackets: stats?.drops.late,
  }),
);
await pair.close();
process.exit(0);
