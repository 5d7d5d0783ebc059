#!/usr/bin/env node
// A classroom: one sender streaming synthetic scenes, four receivers on four different tasks, and two
// more asking the same question, so the sender encodes that question once and shares it (watch the
// sender's stats: "via=shared:…" and "encodes private=" growing by 4 per sample, not 5).
// Usage: node examples/classroom.mjs [--seconds N]
import { generateScene, sceneCaption, sceneQuestions } from '@m4sc/semantic-codec';
import { every, exampleArgs, startReceiver, startSender } from './lib.mjs';

const { seconds: s } = exampleArgs('usage: node examples/classroom.mjs [--seconds N]  (default 12)', {
  seconds: 12,
});
const truth = (seq) => generateScene(9 + 10 * seq);
const sender = await startSender(['--room', 'classroom', '--fps', '10']);
const common = ['--signal', sender.url, '--room', 'classroom', '--duration', String(s), '--quiet'];
const q1 = 'how many shapes are there ?';
const q2 = 'is there a red shape ?';
const check = (want) => (r) =>
  `#${r.seq} ${r.result} ${r.result === want(r.seq) ? '✓' : `✗ (truth: ${want(r.seq)})`} ${r.latencyMs} ms via ${r.stream}`;
const answerOf = (q) => (seq) => sceneQuestions(truth(seq)).find(([x]) => x === q)?.[1];
const receivers = [
  startReceiver(
    'reconstruct',
    [...common, '--task', 'reconstruct'],
    every(20, (r) => `#${r.seq} frame decoded in ${r.decodeMs} ms, ${r.latencyMs} ms capture→decoded`),
  ),
  startReceiver(
    'caption',
    [...common, '--task', 'caption'],
    every(
      10,
      check((seq) => sceneCaption(truth(seq))),
    ),
  ),
  startReceiver(
    'classify',
    [...common, '--task', 'classify'],
    every(20, (r) => `#${r.seq} class: ${r.result} (a Fashion-MNIST label for a synthetic scene)`),
  ),
  startReceiver('answer-1', [...common, '--task', 'answer', '--query', q1], every(10, check(answerOf(q1)))),
  startReceiver('answer-2a', [...common, '--task', 'answer', '--query', q2], every(10, check(answerOf(q2)))),
  startReceiver(
    'answer-2b',
    [...common, '--task', 'answer', '--query', 'Is there a red shape?'],
    every(10, check(answerOf(q2))),
  ),
];
const codes = await Promise.all(receivers.map((r) => r.exited));
sender.child.kill('SIGINT');
process.exit(codes.every((c) => c === 0) ? 0 : 1);
