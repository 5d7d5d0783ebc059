#!/usr/bin/env node
// The same stream over a lossy link: two receivers of the same sender, one clean and one losing 20% of
// its packets (in-process impairment, seeded). Lost packets are decoded through the erasure mask, so the
// lossy receiver still gets every sample, a little worse, never a frozen or missing one.
// Usage: node examples/lossy-link.mjs [--seconds N] [--loss PCT]
import { generateScene, sceneCaption } from '@m4sc/semantic-codec';
import { every, seconds, startReceiver, startSender } from './lib.mjs';

const s = seconds(10);
const li = process.argv.indexOf('--loss');
const loss = li >= 0 ? process.argv[li + 1] : '20';
const sender = await startSender(['--room', 'lossy', '--fps', '10'], { quietStats: true });
const common = [
  '--signal',
  sender.url,
  '--room',
  'lossy',
  '--duration',
  String(s),
  '--quiet',
  '--task',
  'caption',
];
const tally = { clean: [0, 0], lossy: [0, 0] };
const show = (name) => (r) => {
  const ok = r.result === sceneCaption(generateScene(9 + 10 * r.seq));
  tally[name][0] += ok ? 1 : 0;
  tally[name][1] += 1;
  return `#${r.seq} ${ok ? '✓' : '✗'} "${r.result}" lost ${r.lostPackets}/${r.packets}`;
};
const clean = startReceiver('clean', common, every(10, show('clean')));
const lossy = startReceiver('lossy', [...common, '--impair-loss', loss], every(10, show('lossy')));
await Promise.all([clean.exited, lossy.exited]);
sender.child.kill('SIGINT');
for (const [name, [ok, n]] of Object.entries(tally))
  console.log(`[summary] ${name}: ${n} captions, ${ok} exact (${((100 * ok) / Math.max(1, n)).toFixed(0)}%)`);
