#!/usr/bin/env node
// A semantic video call: one sender, one receiver that reconstructs the frames from semantic symbols
// into a Y4M file you can play (ffplay demo-out/semantic-call.y4m, or mpv).
// Usage: node examples/semantic-call.mjs [--seconds N] [-- any extra m4sc-send flags, e.g. --source y4m:clip.y4m]
import { mkdirSync } from 'node:fs';
import { every, ROOT, seconds, startReceiver, startSender } from './lib.mjs';

const s = seconds(10);
const extra = process.argv.includes('--') ? process.argv.slice(process.argv.indexOf('--') + 1) : [];
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
