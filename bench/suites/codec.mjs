// Codec suite (issues "semantic codec" and "GPU & benchmarks"): encode and decode milliseconds per sample
// per task on this CPU, frames/s with batched encodes, and private-instruction throughput against batch
// size (the sender batches every private instruction of a sample into one backbone + coder run).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateScene, renderScene, SCENE_SIZE } from '@m4sc/semantic-codec';
import { createNodeSemanticCodec } from '@m4sc/semantic-codec/node';
import { openSource } from '@m4sc/sender';
import { ms, pct, table } from '../lib/report.mjs';

export const description =
  'encode/decode ms per task, frames/s batched, private throughput vs batch size, load by role (CPU)';

const BUNDLE = fileURLToPath(new URL('../../models/default', import.meta.url));
const VISP_CUBE = '/usr/share/visp-images-data/ViSP-images/cube';
const QUESTIONS = [
  'how many shapes are there ?',
  'is there a red shape ?',
  'how many circles are there ?',
  'what colour is the circle ?',
];

const time = async (fn) => {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
};
const summary = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: pct(s, 50), p95: pct(s, 95) };
};

export async function run({ quick, progress }) {
  const n = quick ? 10 : 40;
  const codec = await createNodeSemanticCodec({ bundleDir: BUNDLE });
  const op = codec.operatingPoints[0];
  const visp = openSource({ kind: 'images', dir: VISP_CUBE }, { width: 64, height: 64 }, 15);
  const frames64 = [];
  for (let i = 0; i < n; i++) frames64.push((await visp.next()).image);
  visp.close();
  const scenes = Array.from({ length: n }, (_, i) => ({
    data: renderScene(generateScene(9 + 10 * i)),
    width: SCENE_SIZE,
    height: SCENE_SIZE,
  }));

  progress('per-task encode and decode');
  const rows = [];
  const out = { perTask: {}, batched: {}, privateBatch: [] };
  const tasks = [
    ['reconstruct 64×64', frames64, []],
    ['reconstruct 32×32', scenes, []],
    ['classify', scenes, [{ task: 'classify' }]],
    ['caption', scenes, [{ task: 'caption' }]],
    ['answer', scenes, [{ task: 'answer', query: QUESTIONS[0] }]],
  ];
  for (const [name, imgs, instructions] of tasks) {
    await codec.encodeSample({ image: imgs[0] }, op, { instructions }); // warm-up
    const enc = [];
    const dec = [];
    for (const image of imgs) {
      let e;
      enc.push(await time(async () => (e = await codec.encodeSample({ image }, op, { instructions }))));
      dec.push(
        await time(() =>
          instructions.length
            ? codec.decodeSample({
                stream: 'private',
                instruction: instructions[0],
                packets: e.private[0].packets,
                op,
              })
            : codec.decodeSample({ stream: 'public', modality: 'image', packets: e.public.packets, op }),
        ),
      );
    }
    const E = summary(enc);
    const D = summary(dec);
    out.perTask[name] = { encodeMs: E, decodeMs: D };
    rows.push([name, ms(E.p50), ms(E.p95), ms(D.p50), ms(D.p95)]);
  }

  // The two batch tables: every batch size warmed up once (a new input shape costs onnxruntime an allocation
  // pass), then timed in interleaved rounds (each round runs every size once), and the median round kept, so
  // that one slow moment of a shared machine does not land on one size alone.
  const rounds = quick ? 3 : 7;
  const medianOf = (xs) => summary(xs).p50;

  progress('batched image encodes (frames/s)');
  const encodeBatch = async (batch) => {
    const tokens = await codec.encodeImage(batch);
    await codec.channelEncode(await codec.publicEncode(tokens), op, 'public');
  };
  const batchSizes = quick ? [1, 8] : [1, 4, 16, 32];
  const batches = batchSizes.map((b) => Array.from({ length: b }, (_, i) => frames64[i % frames64.length]));
  for (const batch of batches) await encodeBatch(batch);
  const batchMs = batches.map(() => []);
  for (let r = 0; r < rounds; r++)
    for (const [i, batch] of batches.entries()) batchMs[i].push(await time(() => encodeBatch(batch)));
  const batchRows = batchSizes.map((b, i) => {
    const fps = (b * 1000) / medianOf(batchMs[i]);
    out.batched[b] = fps;
    return [String(b), fps.toFixed(1), (fps / out.batched[1]).toFixed(2)];
  });

  progress('private instructions per run (batch size)');
  const image = scenes[0];
  // What the private instructions read: the bundle's private trunk where it has one, else the public tokens.
  const pub = await codec.privateSource(image);
  const privSizes = quick ? [1, 4, 16] : [1, 2, 4, 8, 16, 32];
  const instrs = privSizes.map((b) =>
    Array.from({ length: b }, (_, i) =>
      i % 5 === 0 ? { task: 'caption' } : { task: 'answer', query: QUESTIONS[i % QUESTIONS.length] },
    ),
  );
  const batchedRun = (instr) =>
    codec.privateEncode(pub, instr).then((t) => codec.channelEncode(t, op, 'private'));
  const oneByOneRun = async (instr) => {
    for (const i of instr) await batchedRun([i]);
  };
  for (const instr of instrs) {
    await batchedRun(instr);
    await oneByOneRun(instr);
  }
  const privMs = instrs.map(() => ({ batched: [], single: [] }));
  for (let r = 0; r < rounds; r++)
    for (const [i, instr] of instrs.entries()) {
      privMs[i].batched.push(await time(() => batchedRun(instr)));
      privMs[i].single.push(await time(() => oneByOneRun(instr)));
    }
  const privRows = privSizes.map((b, i) => {
    const perSec = (b * 1000) / medianOf(privMs[i].batched);
    const perSecSingle = (b * 1000) / medianOf(privMs[i].single);
    out.privateBatch.push({ batch: b, instructionsPerSec: perSec, oneByOnePerSec: perSecSingle });
    return [String(b), perSec.toFixed(0), perSecSingle.toFixed(0), (perSec / perSecSingle).toFixed(2)];
  });
  await codec.close();

  progress('loading the bundle by role (all, sender, receiver)');
  // Interleaved, so that the three see the same machine; ONNX bytes counted through a reader.
  const roles = ['all', 'sender', 'receiver'];
  const loads = Object.fromEntries(roles.map((r) => [r, { ms: [], onnxBytes: 0, stages: [] }]));
  for (let rep = 0; rep < (quick ? 2 : 5); rep++) {
    for (const role of roles) {
      let bytes = 0;
      const read = async (file) => {
        const b = new Uint8Array(await readFile(join(BUNDLE, file)));
        if (file.endsWith('.onnx')) bytes += b.length;
        return b;
      };
      let c;
      loads[role].ms.push(
        await time(async () => (c = await createNodeSemanticCodec({ bundleDir: read, role }))),
      );
      loads[role].onnxBytes = bytes;
      loads[role].stages = c.bundle.loaded;
      await c.close();
    }
  }
  const loadRows = roles.map((role) => {
    const l = loads[role];
    return [
      role,
      String(l.stages.length),
      (l.onnxBytes / 1e6).toFixed(2),
      (l.onnxBytes / loads.all.onnxBytes).toFixed(2),
      ms(summary(l.ms).p50),
      (summary(l.ms).p50 / summary(loads.all.ms).p50).toFixed(2),
    ];
  });
  out.loadByRole = Object.fromEntries(
    roles.map((r) => [
      r,
      { stages: loads[r].stages, onnxBytes: loads[r].onnxBytes, loadMs: summary(loads[r].ms) },
    ]),
  );
  return {
    results: out,
    markdown: [
      `### Encode and decode per sample (CPU, onnxruntime-node, operating point ${op.name})`,
      '',
      table(['task', 'encode p50 ms', 'encode p95', 'decode p50 ms', 'decode p95'], rows),
      '',
      'Encode includes the image encoder, KAN projector, public backbone, channel coder and packetising (and, for the private tasks, the private trunk where the bundle has one and the private backbone); decode is the receiver side.',
      '',
      `### Batched public encodes, 64×64 frames (median of ${rounds} interleaved rounds, after a warm-up per size)`,
      '',
      table(['batch', 'frames/s', 'vs batch 1'], batchRows),
      '',
      `### Private instructions per run against batch size (32×32 scene; median of ${rounds} interleaved rounds)`,
      '',
      table(['instructions per run', 'instructions/s batched', 'one by one', 'speed-up'], privRows),
      '',
      '### Loading the bundle by role (read, checksum, parse, create sessions)',
      '',
      table(['role', 'stages', 'ONNX MB', 'bytes vs all', 'load p50 ms', 'time vs all'], loadRows),
      '',
      "m4sc-send loads the sender's stages, m4sc-recv and the browser page the receiver's (codec option `role`).",
    ].join('\n'),
  };
}
