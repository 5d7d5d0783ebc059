#!/usr/bin/env node
// A semantic video call: one sender, one receiver that reconstructs the frames from semantic symbols
// into a Y4M file you can play (ffplay demo-out/semantic-call.y4m, or mpv).
// Usage: node examples/semantic-call.mjs [--seconds N] [-- any extra m4sc-send flags, e.g. --source y4m:clip.y4m]
import { mkdirSync } from 'node:fs';
import { every, exampleArgs, ROOT, startReceiver, startSender } from './lib.mjs';

const { seconds: s, rest: extra } = exampleArgs(
  'usage: node examples/semantic-call.mjs [--seconds N] [-- m4sc-send flags, e.g. --source y4m:clip.y4m]  (default 10 s)',
  { seconds: 10, rest: true },
);
mkdirSync(`${ROOT}demo-out`, { recursive: true });
const out = `${ROOT}demo-out/semantic-call.y4m`;
const sender = await startSender(['--room', 'call', ...extra]);
const recv = startReceiver(
  'recv',
  ['--signal', sender.url, '--room', 'call', '--task', 'reconstruct', '--out', out, '--duration', String(s)],
  every(
    15,
    (r) => `frame ${r.seq}: ${r.latencyMs} ms capture→decoded, ${r.lostPackets}/${r.packets} packets lost`,
  ),
);
const code = await recv.exited;
sender.child.kill('SIGINT');
console.log(`[call] reconstructed frames: ${out} (play: ffplay ${out})`);
process.exit(code === 0 ? 0 : 1);
