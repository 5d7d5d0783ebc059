/** Command-line flags of `m4sc-eval` (node:util parseArgs, strict) and the evaluation plan they select. */
import { parseArgs } from 'node:util';
import type { Task } from '../instruction.js';

/** Parts of the report that `--only` can select. */
export const SECTIONS = ['reconstruct', 'classify', 'caption', 'answer', 'transmit', 'timing'] as const;
export type Section = (typeof SECTIONS)[number];
const ALIASES: Record<string, Section> = { image: 'reconstruct', text: 'transmit', vqa: 'answer' };
export const EVAL_TASKS: readonly Task[] = ['reconstruct', 'classify', 'caption', 'answer', 'transmit'];

export interface EvalOptions {
  /** Model bundle directory; default models/default. */
  readonly bundle: string;
  /** Report path; plots go to `<dir of out>/eval/`. Default docs/EVAL.md. */
  readonly out: string;
  /** Held-out samples per task per point; default per task (DEFAULT_SAMPLES). */
  readonly samples?: number;
  /** Seed of the channel and packet-loss draws; default 1. */
  readonly seed: number;
  /** Tiny run for CI smoke tests. */
  readonly quick: boolean;
  /** Sections to run; default all. */
  readonly only: readonly Section[];
  /** Packets each sample's stream is spread over, at least, on the packet-loss sweep; default 8. */
  readonly packets: number;
  /** onnxruntime intra-op threads; 0 = onnxruntime's default. */
  readonly threads: number;
  /** The public image path measured (encodeSample's `publicImage`); default `learned`. */
  /**
   * Images' public path for `reconstruct`: `learned` (the token path), `code` (the bundle's public image code) or
   * `auto` (default, as \`m4sc-send\` does: the code for photos when the bundle has one, the learned path for
   * the synthetic scenes it was trained on).
   */
  readonly imagePath: 'learned' | 'code' | 'auto';
}

/** Held-out samples per task per point in a full run. */
export const DEFAULT_SAMPLES: Readonly<Record<Task, number>> = {
  reconstruct: 256,
  classify: 1000,
  caption: 500,
  answer: 500,
  transmit: 500,
};
const QUICK_SAMPLES = 8;

export const USAGE = `Usage: m4sc-eval [options]

Measures a model bundle on held-out data across channel conditions and writes a markdown report with
SVG and PNG plots (in <dir of --out>/eval/). Progress goes to stderr. Bundles beside --bundle whose folder
name starts with "ablat" (e.g. models/ablate-mlp) are measured too, at AWGN 10 dB, as ablations.

Options:
  --bundle DIR      model bundle (default models/default)
  --out FILE        report to write (default docs/EVAL.md)
  --samples N       held-out samples per task per point (default: reconstruct ${DEFAULT_SAMPLES.reconstruct},
                    classify ${DEFAULT_SAMPLES.classify}, caption ${DEFAULT_SAMPLES.caption}, answer ${DEFAULT_SAMPLES.answer}, transmit ${DEFAULT_SAMPLES.transmit})
  --seed N          seed of the channel noise and packet losses (default 1)
  --quick           tiny run (${QUICK_SAMPLES} samples, few points) for CI smoke tests; not for figures
  --only LIST       comma-separated: ${SECTIONS.join(', ')} (aliases: image, text, vqa)
  --packets N       spread each 32×32 sample over at least N packets on the loss sweep (default 8;
                    the 64×64 frame sweep uses the sender's own packetization)
  --threads N       onnxruntime intra-op threads (default 0: onnxruntime decides)
  --image-path P    images' public path for reconstruct: auto (default, as m4sc-send picks it: the
                    bundle's public image code for photos, the learned token path for the synthetic
                    scenes), learned (the token path everywhere; docs/learned-image/EVAL.md is that run)
                    or code (the image code everywhere)
  -h, --help        this text
`;

/** A command-line mistake: the CLI prints it with the usage and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function int(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw new UsageError(`--${name} must be an integer, got '${v}'`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`--${name} must be in ${min}..${max}, got ${n}`);
  return n;
}

export type ParsedArgs = { readonly help: true } | { readonly help: false; readonly options: EvalOptions };

/** Parses argv (without node and the script); throws UsageError on any bad flag or value. */
export function parseEvalArgs(argv: readonly string[]): ParsedArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        bundle: { type: 'string' },
        out: { type: 'string' },
        samples: { type: 'string' },
        seed: { type: 'string' },
        quick: { type: 'boolean' },
        only: { type: 'string' },
        packets: { type: 'string' },
        threads: { type: 'string' },
        'image-path': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  if (values.help) return { help: true };
  const str = (k: string) => {
    const v = values[k] as string | undefined;
    if (v !== undefined && v.trim() === '') throw new UsageError(`--${k} needs a value`);
    return v;
  };
  const samples = int('samples', str('samples'), 1, 10_000);
  const quick = values.quick === true;
  if (quick && samples !== undefined) {
    throw new UsageError('--quick sets its own sample count; give --quick or --samples, not both');
  }
  let only: Section[] = [...SECTIONS];
  const o = str('only');
  if (o !== undefined) {
    only = [];
    for (const raw of o.split(',').map((s) => s.trim().toLowerCase())) {
      if (raw === '') continue;
      const s: Section | undefined =
        ALIASES[raw] ?? ((SECTIONS as readonly string[]).includes(raw) ? (raw as Section) : undefined);
      if (!s) throw new UsageError(`--only: unknown section '${raw}' (choose from ${SECTIONS.join(', ')})`);
      if (!only.includes(s)) only.push(s);
    }
    if (only.length === 0) throw new UsageError('--only lists no section');
  }
  const imagePath = str('image-path') ?? 'auto';
  if (imagePath !== 'learned' && imagePath !== 'code' && imagePath !== 'auto')
    throw new UsageError(`--image-path must be auto, learned or code, got '${imagePath}'`);
  return {
    help: false,
    options: {
      bundle: str('bundle') ?? 'models/default',
      out: str('out') ?? 'docs/EVAL.md',
      ...(samples !== undefined ? { samples } : {}),
      seed: int('seed', str('seed'), 0, 2 ** 32 - 1) ?? 1,
      quick,
      only,
      packets: int('packets', str('packets'), 1, 64) ?? 8,
      threads: int('threads', str('threads'), 0, 256) ?? 0,
      imagePath,
    },
  };
}

/** What a run measures: the points of each sweep and the samples per task. */
export interface EvalPlan {
  readonly snrDb: readonly number[];
  readonly lossRates: readonly number[];
  /** SNRs of the bandwidth sweep. */
  readonly bandwidthSnrDb: readonly number[];
  /** Bandwidth ratios k/n as denominators: 48 → k/n = 1/48. */
  readonly bandwidthDenominators: readonly number[];
  readonly samples: Readonly<Record<Task, number>>;
  /** Timed single-frame runs and the batch of the throughput run. */
  readonly timingRuns: number;
  readonly timingBatch: number;
}

export function makePlan(options: EvalOptions): EvalPlan {
  if (options.quick) {
    return {
      snrDb: [0, 5, 10, 20],
      lossRates: [0, 0.2, 0.5],
      bandwidthSnrDb: [10],
      bandwidthDenominators: [48, 6],
      samples: Object.fromEntries(EVAL_TASKS.map((t) => [t, QUICK_SAMPLES])) as Record<Task, number>,
      timingRuns: 3,
      timingBatch: 4,
    };
  }
  const n = options.samples;
  return {
    snrDb: [0, 2, 4, 5, 6, 8, 10, 12, 14, 16, 18, 20],
    lossRates: [0, 0.1, 0.2, 0.3, 0.4, 0.5],
    bandwidthSnrDb: [0, 10, 20],
    bandwidthDenominators: [48, 24, 16, 12, 8, 6],
    samples: Object.fromEntries(EVAL_TASKS.map((t) => [t, n ?? DEFAULT_SAMPLES[t]])) as Record<Task, number>,
    timingRuns: 30,
    timingBatch: 32,
  };
}
