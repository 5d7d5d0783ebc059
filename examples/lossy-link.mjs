#!/usr/bin/env node
// The same stream over a lossy link: two receivers of the same sender, one clean and one losing 20% of
// its packets (in-process impairment, seeded). The sender learns the loss from the lossy receiver's link
// reports, conditions its coder on it, and spreads each sample over enough packets (3 at 20 %) that few are
// lost whole; what arrives of a sample decodes through the erasure mask. The summary counts every result.
// Usage: node examples/lossy-link.mjs [--seconds N] [--loss PCT]
import { generateScene, sceneCaption } from '@m4sc/semantic-codec';
import { every, exampleArgs, startReceiver, startSender } from './lib.mjs';

const args = exampleArgs(
  'usage: node examples/lossy-link.mjs [--seconds N] [--loss PCT]  (defaults 10 s, 20 %)',
  {
    seconds: 10,
    options: { loss: { type: 'string', default: '20' } },
  },
);
const s = args.seconds;
const loss = args.loss;
if (!(loss.trim() !== '' && Number(loss) >= 0 && Number(loss) <= 100))
  args.fail(`--loss must be a percentage 0-100, got '${loss}'`);
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
// Every result counts in the summary; every 10th is shown.
const watch = (name) => {
  const show = every(
    10,
    (r) => `#${r.seq} ${r.ok ? '✓' : '✗'} "${r.result}" lost ${r.lostPackets}/${r.packets}`,
  );
  return (r) => {
    const ok = r.result === sceneCaption(generateScene(9 + 10 * r.seq));
    tally[name][0] += ok ? 1 : 0;
    tally[name][1] += 1;
    return show({ ...r, ok });
  };
};
const clean = startReceiver('clean', common, watch('clean'));
const lossy = startReceiver('lossy', [...common, '--impair-loss', loss], watch('lossy'));
await Promise.all([clean.exited, lossy.exited]);
sender.child.kill('SIGINT');
for (const [name, [ok, n]] of Object.entries(tally))
  console.log(`[summary] ${name}: ${n} captions, ${ok} exact (${((100 * ok) / Math.max(1, n)).toFixed(0)}%)`);
