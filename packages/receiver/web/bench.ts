/**
 * Decode timing of the codec as the page runs it (onnxruntime-web), per task, on synthetic held-out scenes.
 * `packages/receiver/src/web/bench.ts` runs the same loop on onnxruntime-node for comparison.
 */
import { generateScene, renderScene, SCENE_SIZE, type SemanticCodec } from '@m4sc/semantic-codec';

/** Tasks timed by default; `answer` asks the synthetic count question. */
export const BENCH_TASKS = ['reconstruct', 'classify', 'caption', 'answer'] as const;
const QUERY = 'how many shapes are there ?';

/** Per task: mean and median decode time of one sample, milliseconds. */
export type DecodeTimes = Record<string, { meanMs: number; p50Ms: number; samples: number }>;

/**
 * Encodes `samples` scenes once with `encoder` and times `codec.decodeSample` for each task (after a few
 * warm-up samples). The page's codec loads the receiver's stages only, so the page passes a sender-role
 * codec as `encoder`; a codec with every stage can be both.
 */
export async function benchDecode(
  codec: SemanticCodec,
  options: { samples?: number; tasks?: readonly string[]; warmup?: number; encoder?: SemanticCodec } = {},
): Promise<DecodeTimes> {
  const encoder = options.encoder ?? codec;
  const n = options.samples ?? 20;
  // wasm starts on V8's baseline compiler and tiers up in the background: time only after a few samples.
  const warmup = options.warmup ?? 5;
  const tasks = options.tasks ?? BENCH_TASKS;
  const op = codec.operatingPoints[0]!;
  const priv = tasks
    .filter((t) => t !== 'reconstruct')
    .map((task) => ({ task, ...(task === 'answer' ? { query: QUERY } : {}) }));
  const times: Record<string, number[]> = Object.fromEntries(tasks.map((t) => [t, []]));
  for (let i = 0; i < n + warmup; i++) {
    const data = renderScene(generateScene(9 + 10 * i));
    const enc = await encoder.encodeSample({ image: { data, width: SCENE_SIZE, height: SCENE_SIZE } }, op, {
      instructions: priv,
    });
    for (const task of tasks) {
      const t0 = performance.now();
      if (task === 'reconstruct') {
        await codec.decodeSample({ stream: 'public', modality: 'image', packets: enc.public.packets, op });
      } else {
        const s = enc.private.find((p) => p.instruction?.task === task)!;
        await codec.decodeSample({ stream: 'private', instruction: s.instruction!, packets: s.packets, op });
      }
      if (i >= warmup) times[task]!.push(performance.now() - t0);
    }
  }
  const out: DecodeTimes = {};
  for (const [task, ts] of Object.entries(times)) {
    const sorted = [...ts].sort((a, b) => a - b);
    out[task] = {
      meanMs: ts.reduce((a, b) => a + b, 0) / Math.max(1, ts.length),
      p50Ms: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN,
      samples: ts.length,
    };
  }
  return out;
}
