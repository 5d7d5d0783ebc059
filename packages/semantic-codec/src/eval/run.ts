/**
 * The evaluation run: loads the held-out sets, builds one suite per task, and measures every sweep
 * (SNR on AWGN and Rayleigh, packet loss through the real packet path, bandwidth ratio), the targets'
 * extra points, speed, and any ablation bundles found beside the main one.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { SemanticCodec } from '../codecTypes.js';
import { DEFAULT_MAX_PACKET_BYTES } from '../defaults.js';
import type { Task } from '../instruction.js';
import type { OperatingPoint } from '../operatingPoint.js';
import { splitWords, textTokens } from '../tokenizer.js';
import { FASHION_LABELS, fashionTest } from './fashion.js';
import { heldOutSentences } from './fortunes.js';
import type { EvalOptions, EvalPlan } from './options.js';
import { loadHeldOutPhotos, photoCrops } from './photos.js';
import type { Condition } from './pipeline.js';
import {
  generateScene,
  heldOutSceneSeeds,
  renderScene,
  SCENE_SIZE,
  scaleScene,
  sceneCaption,
  sceneQuestions,
} from './scenes.js';
import {
  type Metrics,
  privateSuite,
  reconstructSuite,
  type Suite,
  transmitSuite,
  vocabularyCeiling,
} from './suites.js';
import { measureTiming, type TimingResult } from './timing.js';

/** Whether a sentence goes whole: at most the bundle's `text.maxLen − 1` tokens (textTokens refuses more). */
function fitsText(codec: SemanticCodec, s: string): boolean {
  try {
    textTokens(codec.tokenizer, s);
    return true;
  } catch {
    return false;
  }
}

/** Side of the reconstruction crops (training's photo size). */
export const IMAGE_SIZE = 32;
/** Side of the frame timed for speed. */
export const TIMING_SIZE = 64;
/**
 * Side of the frames of the second packet-loss sweep: the sender's default frame (DEFAULT_WIDTH ×
 * DEFAULT_HEIGHT of @m4sc/sender), packetized as the sender does it (no `minPackets`), so a lost packet
 * takes the share of a frame that it takes on the wire.
 */
export const FRAME_LOSS_SIZE = 64;
/** Real symbols per image the classification target allows (issue: "≤ 64 symbols/image"). */
export const CLASSIFY_SYMBOL_BUDGET = 64;

export interface SweepPoint {
  readonly x: number;
  readonly m: Metrics;
}

export interface TaskResult {
  readonly task: Task;
  readonly size: number;
  readonly symbolsPerSample: number;
  readonly heldOut: string;
  readonly awgn: SweepPoint[];
  readonly rayleigh: SweepPoint[];
  readonly loss: SweepPoint[];
  /** reconstruct only: x = k/n, one curve per SNR. */
  readonly bandwidth: { readonly snrDb: number; readonly points: SweepPoint[] }[];
  /**
   * reconstruct only: packet loss on FRAME_LOSS_SIZE² frames in the packets the sender makes of such a frame
   * (the loss sweep above spreads a 32×32 crop over `--packets` packets): photo crops, and held-out scenes
   * scaled up as the network lab streams them.
   */
  frameLoss?: FrameLossSweep[];
  /**
   * caption and answer: AWGN 10 dB on the same held-out scenes at the sender's FRAME_LOSS_SIZE² frame (scaled
   * up by pixel replication): what the private path makes of a frame larger than it was trained on.
   */
  atFrame?: { readonly size: number; readonly m: Metrics };
}

export interface FrameLossSweep {
  /** What the frames are, for the report. */
  readonly frames: 'photos' | 'scenes';
  readonly size: number;
  readonly samples: number;
  /** The public image path they went through. */
  readonly path: 'learned' | 'code';
  readonly points: SweepPoint[];
}

export interface AblationBundleResult {
  readonly dir: string;
  readonly name: string;
  readonly version: string;
  readonly projector?: string;
  readonly tasks: readonly string[];
  readonly metrics: Partial<Record<Task, Metrics>>;
  readonly samples: number;
}

export interface EvalResults {
  readonly tasks: Partial<Record<Task, TaskResult>>;
  readonly classify64?: { readonly rateSymbols: number; readonly symbols: number; readonly m: Metrics };
  readonly timing?: TimingResult;
  readonly transmitCeiling?: { readonly bleu1: number; readonly bleu4: number };
  readonly lossOp: OperatingPoint;
  readonly maxPacketBytes: number;
  readonly ablationBundles: AblationBundleResult[];
}

export type Log = (message: string) => void;

/** A uint32 seed for one measurement point: FNV-1a of its label, mixed with the run's seed. */
export function pointSeed(seed: number, label: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** `n` indices spread evenly over `length` (a subset that is not biased to one end of a sorted list). */
export function spread(length: number, n: number): number[] {
  const m = Math.min(n, length);
  return Array.from({ length: m }, (_, i) => Math.floor((i * length) / m));
}

function lossOperatingPoint(codec: SemanticCodec): OperatingPoint {
  const C = codec.manifest.dims.C;
  return (
    codec.operatingPoints.find((p) => p.bits === 8 && p.rateSymbols === C) ??
    codec.operatingPoints.find((p) => p.rateSymbols === C) ??
    codec.operatingPoints[0]!
  );
}

interface HeldOut {
  crops?: Uint8Array[];
  /** FRAME_LOSS_SIZE² crops of the same photos (the same crop boxes as `crops`, resized larger). */
  frames?: Uint8Array[];
  fashion?: ReturnType<typeof fashionTest>;
  sentences?: string[];
}

async function buildSuite(
  codec: SemanticCodec,
  task: Task,
  n: number,
  data: HeldOut,
  baseline: boolean,
  /** caption and answer: scale the scenes up to this side (pixel replication). */
  sceneSize = SCENE_SIZE,
  /** reconstruct: the public image path of photos. */
  imagePath: 'learned' | 'code' = 'learned',
): Promise<{ suite: Suite; heldOut: string }> {
  if (task === 'reconstruct') {
    const crops = data.crops!.slice(0, n);
    return {
      suite: await reconstructSuite(codec, crops, IMAGE_SIZE, { baseline, path: imagePath }),
      heldOut: `${crops.length} crops (side 64–512 px, box-resized to ${IMAGE_SIZE}×${IMAGE_SIZE}, random flip; mulberry32 seed 2) of the held-out photos coffee, camera, gravel, rocket; the same crop boxes resized to ${FRAME_LOSS_SIZE}×${FRAME_LOSS_SIZE} for the frame loss sweep`,
    };
  }
  if (task === 'classify') {
    const f = data.fashion!;
    const m = Math.min(n, f.images.length);
    const items = Array.from({ length: m }, (_, i) => ({
      image: f.images[i]!,
      instruction: { task: 'classify' },
      target: [FASHION_LABELS[f.labels[i]!]!],
    }));
    return {
      suite: await privateSuite(codec, 'classify', items, f.size),
      heldOut: `Fashion-MNIST t10k, first ${m} images (28×28 padded to 32×32, grey as RGB)`,
    };
  }
  if (task === 'caption' || task === 'answer') {
    const seeds = heldOutSceneSeeds(n);
    const items = seeds.map((seed, k) => {
      const scene = generateScene(seed);
      const image = scaleScene(renderScene(scene), sceneSize);
      if (task === 'caption') {
        return { image, instruction: { task: 'caption' }, target: splitWords(sceneCaption(scene)) };
      }
      const qa = sceneQuestions(scene);
      const [q, a] = qa[k % qa.length]!;
      return { image, instruction: { task: 'answer', query: q }, target: splitWords(a) };
    });
    return {
      suite: await privateSuite(codec, task, items, sceneSize),
      heldOut:
        task === 'caption'
          ? `${n} held-out synthetic scenes (seeds 9, 19, …, ${seeds.at(-1)}; training/data/scenes.md)`
          : `${n} held-out scenes, question k mod count of scene k (as training's held-out set)`,
    };
  }
  // Sentences longer than the bundle's text length cannot be sent whole (training's filter keeps ≤ 31 words).
  const all = data.sentences!.filter((s) => fitsText(codec, s));
  const idx = spread(all.length, n);
  const sentences = idx.map((i) => all[i]!);
  return {
    suite: await transmitSuite(codec, sentences),
    heldOut: `${sentences.length} of the ${all.length} held-out fortunes sentences (SHA-1 split of training/data/fortunes.py), evenly spread over the sorted list`,
  };
}

async function loadHeldOut(tasks: readonly Task[], plan: EvalPlan, log: Log): Promise<HeldOut> {
  const data: HeldOut = {};
  if (tasks.includes('reconstruct')) {
    log('loading held-out photos');
    const photos = await loadHeldOutPhotos();
    data.crops = photoCrops(photos, plan.samples.reconstruct, { size: IMAGE_SIZE });
    data.frames = photoCrops(photos, plan.samples.reconstruct, { size: FRAME_LOSS_SIZE });
  }
  if (tasks.includes('classify')) data.fashion = fashionTest(plan.samples.classify);
  if (tasks.includes('transmit')) {
    log('reading held-out fortunes sentences');
    data.sentences = heldOutSentences();
  }
  return data;
}

/** Runs the whole evaluation of `codec` (the main bundle) and any ablation bundles. */
export async function runEvaluation(
  codec: SemanticCodec,
  options: EvalOptions,
  plan: EvalPlan,
  log: Log,
  openBundle: (dir: string) => Promise<SemanticCodec>,
): Promise<EvalResults> {
  const C = codec.manifest.dims.C;
  const tasks = (['reconstruct', 'classify', 'caption', 'answer', 'transmit'] as const).filter(
    (t) => options.only.includes(t) && codec.manifest.tasks.includes(t),
  );
  const data = await loadHeldOut(tasks, plan, log);
  const lossOp = lossOperatingPoint(codec);
  const photoPath = imagePathFor('photos', options.imagePath, codec);
  const maxPacketBytes = DEFAULT_MAX_PACKET_BYTES;
  const results: EvalResults = {
    tasks: {},
    lossOp,
    maxPacketBytes,
    ablationBundles: [],
  };
  const mutable = results as { -readonly [K in keyof EvalResults]: EvalResults[K] };
  for (const task of tasks) {
    const t0 = performance.now();
    log(`${task}: encoding ${plan.samples[task]} held-out samples`);
    const { suite, heldOut } = await buildSuite(
      codec,
      task,
      plan.samples[task],
      data,
      true,
      SCENE_SIZE,
      photoPath,
    );
    const r: TaskResult = {
      task,
      size: suite.size,
      symbolsPerSample: suite.symbolsPerSample,
      heldOut,
      awgn: [],
      rayleigh: [],
      loss: [],
      bandwidth: [],
    };
    const at = async (label: string, c: Condition, on: Suite = suite) => {
      const m = await on.evaluate(c, pointSeed(options.seed, `${task}/${label}`));
      const shown = Object.entries(m).filter(([k]) => !k.includes('.') && k !== 'k' && k !== 'packets');
      log(
        `${task} ${label}: ${shown.map(([k, v]) => `${k} ${v.toFixed(k === 'bytes' ? 0 : 3)}`).join(', ')}`,
      );
      return m;
    };
    for (const channel of ['awgn', 'rayleigh'] as const) {
      for (const snrDb of plan.snrDb) {
        const m = await at(`${channel} ${snrDb} dB`, { path: 'symbols', channel, snrDb, rateSymbols: C });
        r[channel].push({ x: snrDb, m });
      }
    }
    // The public image code carries parity packets on a lossy link, as the sender sends it (encodeSample).
    const fec = task === 'reconstruct' && photoPath === 'code';
    for (const lossRate of plan.lossRates) {
      const m = await at(`loss ${Math.round(lossRate * 100)}%`, {
        path: 'packets',
        op: lossOp,
        lossRate,
        minPackets: options.packets,
        maxPacketBytes,
        fec,
      });
      r.loss.push({ x: lossRate, m });
    }
    if (task === 'reconstruct') {
      r.frameLoss = [];
      const sceneFrames = heldOutSceneSeeds(plan.samples.reconstruct).map((seed) =>
        scaleScene(renderScene(generateScene(seed)), FRAME_LOSS_SIZE),
      );
      for (const [kind, frames] of [
        ['photos', data.frames!],
        ['scenes', sceneFrames],
      ] as const) {
        const path = imagePathFor(kind, options.imagePath, codec);
        const frameSuite = await reconstructSuite(codec, frames, FRAME_LOSS_SIZE, { baseline: false, path });
        const points: SweepPoint[] = [];
        for (const lossRate of plan.lossRates) {
          const m = await at(
            `${FRAME_LOSS_SIZE}×${FRAME_LOSS_SIZE} ${kind} loss ${Math.round(lossRate * 100)}%`,
            { path: 'packets', op: lossOp, lossRate, minPackets: 1, maxPacketBytes, fec: path === 'code' },
            frameSuite,
          );
          points.push({ x: lossRate, m });
        }
        r.frameLoss.push({ frames: kind, size: FRAME_LOSS_SIZE, samples: frames.length, path, points });
      }
      const T = suite.symbolsPerSample / C;
      const n = IMAGE_SIZE * IMAGE_SIZE * 3;
      const rates = [
        ...new Set(
          plan.bandwidthDenominators.map((d) => Math.max(1, Math.min(C, Math.round((2 * n) / (d * T))))),
        ),
      ];
      for (const snrDb of plan.bandwidthSnrDb) {
        const points: SweepPoint[] = [];
        for (const rate of rates) {
          const m = await at(`awgn ${snrDb} dB rate ${rate}/${C}`, {
            path: 'symbols',
            channel: 'awgn',
            snrDb,
            rateSymbols: rate,
          });
          points.push({ x: (rate * T) / 2 / n, m });
        }
        r.bandwidth.push({ snrDb, points });
      }
    }
    if (task === 'caption' || task === 'answer') {
      const big = await buildSuite(codec, task, plan.samples[task], data, false, FRAME_LOSS_SIZE);
      const m = await at(
        `awgn 10 dB at ${FRAME_LOSS_SIZE}×${FRAME_LOSS_SIZE}`,
        {
          path: 'symbols',
          channel: 'awgn',
          snrDb: 10,
          rateSymbols: C,
        },
        big.suite,
      );
      r.atFrame = { size: FRAME_LOSS_SIZE, m };
    }
    if (task === 'classify') {
      const T = suite.symbolsPerSample / C;
      const rate = Math.max(1, Math.min(C, Math.floor(CLASSIFY_SYMBOL_BUDGET / T)));
      const m = await at(`awgn 10 dB rate ${rate}/${C} (≤ ${CLASSIFY_SYMBOL_BUDGET} symbols)`, {
        path: 'symbols',
        channel: 'awgn',
        snrDb: 10,
        rateSymbols: rate,
      });
      mutable.classify64 = { rateSymbols: rate, symbols: rate * T, m };
    }
    if (task === 'transmit') {
      const all = data.sentences!.filter((s) => fitsText(codec, s));
      mutable.transmitCeiling = vocabularyCeiling(
        codec,
        spread(all.length, plan.samples.transmit).map((i) => all[i]!),
      );
    }
    mutable.tasks[task] = r;
    log(`${task}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  if (options.only.includes('timing') && codec.manifest.tasks.includes('reconstruct')) {
    log(`timing: ${TIMING_SIZE}×${TIMING_SIZE} frames, ${plan.timingRuns} runs, batch ${plan.timingBatch}`);
    const photos = await loadHeldOutPhotos();
    const frames = photoCrops(photos, Math.max(4, plan.timingBatch), { size: TIMING_SIZE });
    mutable.timing = await measureTiming(
      codec,
      frames,
      TIMING_SIZE,
      lossOp,
      plan.timingRuns,
      plan.timingBatch,
      maxPacketBytes,
      photoPath,
    );
    log(
      `timing: ${mutable.timing.frameMsMedian.toFixed(1)} ms/frame, ${mutable.timing.batchedFps.toFixed(0)} frames/s batched`,
    );
  }
  for (const dir of ablationBundleDirs(options.bundle)) {
    log(`ablation bundle ${dir}`);
    const other = await openBundle(dir);
    try {
      const mm: Partial<Record<Task, Metrics>> = {};
      const n = Math.min(...tasks.map((t) => plan.samples[t]), 200);
      for (const task of tasks.filter((t) => other.manifest.tasks.includes(t))) {
        const { suite } = await buildSuite(other, task, Math.min(plan.samples[task], 200), data, false);
        mm[task] = await suite.evaluate(
          { path: 'symbols', channel: 'awgn', snrDb: 10, rateSymbols: other.manifest.dims.C },
          pointSeed(options.seed, `${task}/awgn 10 dB`),
        );
      }
      const kan = other.manifest.kan as { projector?: string } | undefined;
      results.ablationBundles.push({
        dir,
        name: other.manifest.name,
        version: other.manifest.version,
        ...(kan?.projector ? { projector: kan.projector } : {}),
        tasks: other.manifest.tasks,
        metrics: mm,
        samples: n,
      });
    } finally {
      await other.close();
    }
  }
  return results;
}

/**
 * Ablation bundles beside the main one: sibling directories named `ablat…` with a manifest.json, e.g.
 * models/ablate-mlp. Other siblings are not ablations (a bundle exported to /tmp would otherwise take in
 * whatever else /tmp holds).
 */
export function ablationBundleDirs(bundle: string): string[] {
  const main = resolve(bundle);
  const parent = dirname(main);
  if (!existsSync(parent)) return [];
  return readdirSync(parent, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== basename(main) && d.name.startsWith('ablat'))
    .map((d) => join(parent, d.name))
    .filter((d) => existsSync(join(d, 'manifest.json')))
    .sort();
}

/**
 * The public image path for `kind` of frames under `--image-path`: `auto` picks as m4sc-send does (the bundle's
 * public image code for photos when it has one; the learned token path for the synthetic scenes it was trained on).
 */
export function imagePathFor(
  kind: 'photos' | 'scenes',
  option: EvalOptions['imagePath'],
  codec: Pick<SemanticCodec, 'hasImageCode'>,
): 'learned' | 'code' {
  if (option !== 'auto') return option;
  return kind === 'photos' && codec.hasImageCode ? 'code' : 'learned';
}
