/** The markdown report (docs/EVAL.md) from the results: pure string building. */
import type { Manifest } from '../manifest.js';
import { BASELINE_MTU_BYTES, GREY } from './baseline.js';
import type { EvalOptions, EvalPlan } from './options.js';
import type { EvalResults, FrameLossSweep, SweepPoint, TaskResult } from './run.js';
import { CLASSIFY_SYMBOL_BUDGET, IMAGE_SIZE, imagePathFor } from './run.js';
import { SCENE_SIZE } from './scenes.js';
import { type Metrics, RAW_TEXT_DRAWS } from './suites.js';
import { bestClassical, crossover, evaluateTargets } from './targets.js';

export interface ReportContext {
  readonly bundleDir: string;
  readonly manifest: Manifest;
  readonly manifestSha256: string;
  /** Last commit touching the bundle directory, when in a git checkout. */
  readonly bundleCommit?: string;
  readonly date: string;
  readonly machine: string;
  /** The command-line arguments, shell-quoted, each after a space ('' for none). */
  readonly args: string;
  readonly seconds: number;
  readonly options: EvalOptions;
  readonly plan: EvalPlan;
  /** Chart name → paths relative to the report's directory. */
  readonly charts: Readonly<Record<string, { readonly svg: string; readonly png: string }>>;
  /** Ablation figures from training, and where they came from. */
  readonly trainingAblation?: { readonly source: string; readonly data: unknown };
}

/** The report's section headings, in order (the tests check a quick run has them all). */
export const REPORT_SECTIONS = [
  '## Targets',
  '## Held-out data',
  '## Method',
  '## 1. Quality versus SNR',
  '## 2. Quality versus packet loss',
  '## 3. Image quality versus bandwidth ratio',
  '## 4. Classical baseline and crossover',
  '## 5. Ablations',
  '## 6. Speed',
] as const;

const f2 = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '—' : v.toFixed(2));
const f3 = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '—' : v.toFixed(3));
const pc = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '—' : `${(100 * v).toFixed(1)}%`);
const mark = (p: boolean | null) => (p === null ? '—' : p ? '✅' : '❌');

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `| ${head.map(esc).join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

function chart(ctx: ReportContext, name: string, alt: string): string {
  const c = ctx.charts[name];
  return c ? `![${alt}](${c.png})\n\n<sub>[SVG](${c.svg})</sub>\n` : '';
}

/** "q 37, 100%" — mean quality over delivered frames, and the fraction delivered. */
function classical(m: Record<string, number>, f: 'jpeg' | 'webp'): string {
  const d = m[`${f}.delivered`];
  if (d === undefined) return '—';
  return `${f2(m[`${f}.psnr`])} (${d > 0 ? `q ${Math.round(m[`${f}.quality`]!)}, ` : ''}${pc(d)} sent)`;
}

function snrImageTable(rec: TaskResult): string {
  const rows = rec.awgn.map((p, i) => {
    const q = rec.rayleigh[i]!;
    return [
      `${p.x}`,
      f2(p.m.psnr),
      f3(p.m.ssim),
      classical(p.m, 'jpeg'),
      classical(p.m, 'webp'),
      f2(q.m.psnr),
      f3(q.m.ssim),
      classical(q.m, 'jpeg'),
      classical(q.m, 'webp'),
    ];
  });
  return table(
    [
      'SNR dB',
      'M4SC AWGN PSNR',
      'SSIM',
      'JPEG AWGN PSNR',
      'WebP AWGN PSNR',
      'M4SC Rayleigh PSNR',
      'SSIM',
      'JPEG Rayleigh (genie)',
      'WebP Rayleigh (genie)',
    ],
    rows,
  );
}

function taskTable(r: EvalResults, sweep: 'awgn' | 'rayleigh' | 'loss'): string {
  const t = r.tasks;
  const base = t.classify ?? t.caption ?? t.answer ?? t.transmit;
  if (!base) return '_No task measured._';
  const head = [sweep === 'loss' ? 'loss' : 'SNR dB'];
  if (t.classify) head.push('classify acc');
  if (t.caption) head.push('caption exact', 'caption BLEU-4');
  if (t.answer) head.push('answer acc');
  if (t.transmit)
    head.push(
      'text BLEU-1',
      'text BLEU-4',
      '+literals BLEU-1',
      '+literals BLEU-4',
      'raw UTF-8 BLEU-1',
      'raw UTF-8 BLEU-4',
      'raw sent',
    );
  const rows = base[sweep].map((p, i) => {
    const row = [sweep === 'loss' ? pc(p.x) : `${p.x}`];
    if (t.classify) row.push(pc(t.classify[sweep][i]?.m.accuracy));
    if (t.caption) row.push(pc(t.caption[sweep][i]?.m.exact), f3(t.caption[sweep][i]?.m.bleu4));
    if (t.answer) row.push(pc(t.answer[sweep][i]?.m.accuracy));
    if (t.transmit) {
      const m = t.transmit[sweep][i]?.m ?? {};
      row.push(
        f3(m.bleu1),
        f3(m.bleu4),
        f3(m['literal.bleu1']),
        f3(m['literal.bleu4']),
        f3(m['raw.bleu1']),
        f3(m['raw.bleu4']),
        pc(m['raw.delivered']),
      );
    }
    return row;
  });
  return table(head, rows);
}

/** Packets a frame, and of them the parity packets when there are any. */
function packetsCell(m: Metrics): string {
  const all = f2(m.packets).replace(/\.00$/, '');
  return m.parity ? `${all} (${f2(m.parity).replace(/\.00$/, '')} parity)` : all;
}

function lossImageTable(rec: TaskResult): string {
  return table(
    [
      'loss',
      'M4SC PSNR',
      'SSIM',
      'bytes/frame',
      'packets/frame',
      'JPEG same bytes',
      'WebP same bytes',
      'mid-grey',
    ],
    rec.loss.map((p) => [
      pc(p.x),
      f2(p.m.psnr),
      f3(p.m.ssim),
      f2(p.m.bytes).replace(/\.00$/, ''),
      packetsCell(p.m),
      classical(p.m, 'jpeg'),
      classical(p.m, 'webp'),
      f2(p.m['grey.psnr']),
    ]),
  );
}

/** Loss on the sender's default frame, in the sender's own packets (no JPEG/WebP: those are above). */
function frameLossTable(sweeps: readonly FrameLossSweep[], maxPacketBytes: number): string {
  const first = sweeps[0]!;
  const p0 = first.points[0]?.m;
  const pathName = { code: 'the public image code', learned: 'the learned token path' };
  const what = (f: FrameLossSweep) =>
    (f.frames === 'photos'
      ? `${f.samples} crops of the held-out photos (the same crop boxes as above, resized to ${f.size}×${f.size})`
      : `${f.samples} held-out scenes scaled up by pixel replication, as the network lab streams them`) +
    `, through ${pathName[f.path]}`;
  // Bytes and packets a frame are per sweep: the two paths' packets differ (the image code's carry parity).
  const head = ['loss'];
  for (const f of sweeps)
    head.push(`M4SC ${f.size}×${f.size} ${f.frames} PSNR`, 'SSIM', 'bytes/frame', 'packets/frame');
  return [
    `The same sweep on the sender's default frame, ${first.size}×${first.size}, packetized as the sender does it: packets of ≤ ${maxPacketBytes} bytes and no \`minPackets\`, so ${f2(p0?.packets).replace(/\.00$/, '')} packets of ${f2(p0?.bytes).replace(/\.00$/, '')} bytes a loss-free frame, and one lost packet takes a larger share of a frame than above. Frames: ${sweeps.map(what).join('; ')}. The network lab (\`tests/net/netlab-quality.e2e.test.ts\`) measures the scenes over real peers.`,
    '',
    table(
      head,
      first.points.map((p, i) => {
        const row = [pc(p.x)];
        for (const f of sweeps) {
          const q = f.points[i]?.m;
          row.push(f2(q?.psnr), f3(q?.ssim), f2(q?.bytes).replace(/\.00$/, ''), q ? packetsCell(q) : '—');
        }
        return row;
      }),
    ),
  ].join('\n');
}

function bandwidthTable(rec: TaskResult, C: number): string {
  const first = rec.bandwidth[0];
  if (!first) return '_Not measured._';
  const T = rec.symbolsPerSample / C;
  const head = ['k/n', 'symbols/token', 'k'];
  for (const b of rec.bandwidth) head.push(`M4SC ${b.snrDb} dB`, `JPEG ${b.snrDb} dB`, `WebP ${b.snrDb} dB`);
  const rows = first.points.map((p, i) => {
    const row = [`1/${Number((1 / p.x).toFixed(1))}`, `${(2 * p.m.k!) / T}`, `${p.m.k}`];
    for (const b of rec.bandwidth) {
      const q = b.points[i]!;
      row.push(f2(q.m.psnr), classical(q.m, 'jpeg'), classical(q.m, 'webp'));
    }
    return row;
  });
  return table(head, rows);
}

function crossoverText(points: readonly SweepPoint[], label: string): string {
  const xs = points.map((p) => p.x);
  const m4 = points.map((p) => p.m.psnr!);
  const out: string[] = [];
  for (const f of ['webp', 'jpeg'] as const) {
    const b = points.map((p) => p.m[`${f}.psnr`]!);
    const x = crossover(xs, m4, b);
    const name = f === 'webp' ? 'WebP' : 'JPEG';
    out.push(
      x === null
        ? `- ${label}, ${name} + ideal code: **never beats M4SC** between ${xs[0]} and ${xs.at(-1)} dB.`
        : x <= xs[0]!
          ? `- ${label}, ${name} + ideal code: beats M4SC at every measured SNR (from ${xs[0]} dB).`
          : `- ${label}, ${name} + ideal code beats M4SC above **${x.toFixed(1)} dB** (interpolated between grid points).`,
    );
  }
  return out.join('\n');
}

/** The headline metric of each task in training's figures. */
const HEADLINE: Record<string, string> = {
  reconstruct: 'psnr',
  classify: 'accuracy',
  caption: 'exact',
  answer: 'accuracy',
  transmit: 'bleu1',
};

type AblationRuns = Record<string, Record<string, unknown>>;

/** Keys of an ablation run that are not a task's figures (training/ablate's multi-seed summary). */
const RUN_META = new Set(['steps', 'params', 'seeds', 'sd', 'perSeed', 'curve']);

function metricOf(run: Record<string, unknown> | undefined, task: string, key: string): number | undefined {
  const v = (run?.[task] as Record<string, unknown> | undefined)?.[key];
  return typeof v === 'number' ? v : undefined;
}

/** `v` with as many decimals as a figure of `ref`'s size gets: 2 from 2 up, else 3. */
const like = (v: number, ref: number) => v.toFixed(Math.abs(ref) >= 2 ? 2 : 3);

const num = (v: number | undefined) => (v === undefined ? '—' : like(v, v));

/** The tasks a run has figures for, in HEADLINE's order. */
function tasksOf(run: Record<string, unknown> | undefined): string[] {
  return Object.keys(HEADLINE).filter((t) => typeof run?.[t] === 'object' && run[t] !== null);
}

function seedCount(run: Record<string, unknown> | undefined): number {
  return Array.isArray(run?.seeds) ? run.seeds.length : 1;
}

function sdOf(run: Record<string, unknown> | undefined, task: string, key: string): number | undefined {
  return metricOf(run?.sd as Record<string, unknown> | undefined, task, key);
}

/** "mean ± sd" over the seeds (just the figure for a one-seed run). */
function meanSd(run: Record<string, unknown> | undefined, task: string, key: string): string {
  const m = metricOf(run, task, key);
  const sd = sdOf(run, task, key);
  return m === undefined ? '—' : sd === undefined ? num(m) : `${num(m)} ± ${like(sd, m)}`;
}

/** b − a, with the standard error of that difference of means when both runs have several seeds. */
function difference(
  a: Record<string, unknown> | undefined,
  b: Record<string, unknown> | undefined,
  task: string,
  key: string,
): string {
  const ma = metricOf(a, task, key);
  const mb = metricOf(b, task, key);
  if (ma === undefined || mb === undefined) return '—';
  const sa = sdOf(a, task, key);
  const sb = sdOf(b, task, key);
  if (sa === undefined || sb === undefined) return like(mb - ma, ma);
  const se = Math.sqrt((sa * sa) / seedCount(a) + (sb * sb) / seedCount(b));
  return `${like(mb - ma, ma)} ± ${like(se, ma)}`;
}

/**
 * Training's ablation runs: KAN vs MLP (multi-task), single- vs multi-task (KAN), the held-out curves and every
 * figure. A run is either one seed's figures ({steps, params, <task>: {metric: x}}) or training/ablate's summary of
 * several seeds, which adds `seeds`, `sd` (sample standard deviation per figure), `perSeed` and `curve`.
 */
export function renderAblation(data: unknown): string {
  if (typeof data !== 'object' || data === null) return '_Malformed ablation data._';
  const runs = data as AblationRuns;
  const out: string[] = [];
  const label = (t: string) => `${t} ${HEADLINE[t]}`;
  const kan = runs['multi-kan'];
  const mlp = runs['multi-mlp'];
  const counts = Object.values(runs).map(seedCount);
  const seeds = Math.min(...counts);
  if (seeds > 1) {
    out.push(
      `Every run was trained with ${seeds === Math.max(...counts) ? seeds : `at least ${seeds}`} seeds; a figure is the mean over them ± their sample standard deviation, and a difference is the difference of the means ± its standard error.`,
      '',
    );
  }
  if (kan && mlp) {
    const tasks = tasksOf(kan);
    out.push(
      `**KAN versus MLP projector** (${tasks.join(' and ')} trained together):`,
      '',
      table(
        ['projector', 'params', ...tasks.map(label)],
        [
          ['KAN', String(kan.params ?? '—'), ...tasks.map((t) => meanSd(kan, t, HEADLINE[t]!))],
          ['MLP', String(mlp.params ?? '—'), ...tasks.map((t) => meanSd(mlp, t, HEADLINE[t]!))],
          ['MLP − KAN', '', ...tasks.map((t) => difference(kan, mlp, t, HEADLINE[t]!))],
        ],
      ),
      '',
    );
  }
  // Each single-task run against every multi-task KAN run that trained its task too.
  const multis = Object.keys(runs).filter((name) => name.startsWith('multi-') && name !== 'multi-mlp');
  const pairs = Object.keys(HEADLINE).flatMap((t) =>
    runs[`single-${t}`] ? multis.filter((m) => tasksOf(runs[m]).includes(t)).map((m) => [t, m] as const) : [],
  );
  if (pairs.length) {
    out.push(
      '**Single-task versus multi-task** (KAN projector; each single-task model trained on its task alone, each multi-task one on the tasks named):',
      '',
      table(
        ['task', 'metric', 'single-task', 'multi-task run', 'multi-task', 'multi − single'],
        pairs.map(([t, m]) => {
          const single = runs[`single-${t}`];
          return [
            t,
            HEADLINE[t]!,
            meanSd(single, t, HEADLINE[t]!),
            `${m} (${tasksOf(runs[m]).join(', ')})`,
            meanSd(runs[m], t, HEADLINE[t]!),
            difference(single, runs[m], t, HEADLINE[t]!),
          ];
        }),
      ),
      '',
    );
  }
  // The held-out curves (mean over the seeds), one table per headline figure: is a gap still moving at the end?
  const withCurve = Object.entries(runs).filter(([, v]) => Array.isArray(v?.curve) && v.curve.length > 1);
  for (const t of Object.keys(HEADLINE)) {
    const cols = withCurve.filter(([, v]) => tasksOf(v).includes(t));
    if (!cols.length) continue;
    const steps = [
      ...new Set(cols.flatMap(([, v]) => (v.curve as { step: number }[]).map((p) => p.step))),
    ].sort((x, y) => x - y);
    const at = (v: Record<string, unknown>, step: number) =>
      num(
        metricOf(
          (v.curve as ({ step: number } & Record<string, unknown>)[]).find((p) => p.step === step),
          t,
          HEADLINE[t]!,
        ),
      );
    out.push(
      `Held-out ${label(t)} during training (mean over the seeds):`,
      '',
      table(
        ['step', ...cols.map(([name]) => name)],
        steps.map((st) => [String(st), ...cols.map(([, v]) => at(v, st))]),
      ),
      '',
    );
  }
  // Every run (every seed) and every figure, as training wrote them.
  const rows: [string, string, Record<string, unknown>, Record<string, unknown>][] = [];
  for (const [name, v] of Object.entries(runs)) {
    const per = v?.perSeed as Record<string, Record<string, unknown>> | undefined;
    if (per && typeof per === 'object')
      for (const [seed, f] of Object.entries(per)) rows.push([name, seed, v, f]);
    else rows.push([name, '—', v ?? {}, v ?? {}]);
  }
  const cols: string[] = [];
  for (const [, , , f] of rows) {
    for (const [task, m] of Object.entries(f)) {
      if (RUN_META.has(task) || typeof m !== 'object' || m === null) continue;
      for (const k of Object.keys(m)) if (!cols.includes(`${task}.${k}`)) cols.push(`${task}.${k}`);
    }
  }
  out.push(
    'All figures of every run:',
    '',
    table(
      ['run', 'seed', 'steps', 'params', ...cols],
      rows.map(([name, seed, v, f]) => [
        name,
        seed,
        String(v.steps ?? '—'),
        String(v.params ?? '—'),
        ...cols.map((c) => {
          const [task, k] = c.split('.') as [string, string];
          return num(metricOf(f, task, k));
        }),
      ]),
    ),
  );
  return out.join('\n');
}

function renderFlatEval(ev: unknown, r: EvalResults): string {
  const a = (ev as { awgn10dB?: Record<string, Record<string, number>> } | undefined)?.awgn10dB;
  if (!a || typeof a !== 'object') return '';
  const rows: string[][] = [];
  for (const [task, ms] of Object.entries(a)) {
    const ours = r.tasks[task as keyof EvalResults['tasks']]?.awgn.find((p) => p.x === 10)?.m;
    for (const [k, v] of Object.entries(ms ?? {})) {
      if (typeof v !== 'number') continue;
      rows.push([task, k, v.toFixed(3), ours?.[k] !== undefined ? ours[k]!.toFixed(3) : '—']);
    }
  }
  return `Training's own held-out figures at AWGN 10 dB (PyTorch, \`manifest.json\` → \`evaluation.awgn10dB\`, measured by \`${
    (ev as { measuredBy?: string }).measuredBy ?? 'training'
  }\`), beside this run's TypeScript/onnxruntime figures at the same point — they should agree within sampling noise (different crops for \`reconstruct\`, subsets elsewhere):\n\n${table(
    ['task', 'metric', 'training (PyTorch)', 'this run (ONNX)'],
    rows,
  )}\n`;
}

export function renderReport(r: EvalResults, ctx: ReportContext): string {
  const m = ctx.manifest;
  // Whether the photos went through the public image code (auto picks it when the bundle has one).
  const photoCode =
    imagePathFor('photos', ctx.options.imagePath, { hasImageCode: m.streams?.image !== undefined }) ===
    'code';
  const tr = (m.training ?? {}) as Record<string, unknown>;
  const o: string[] = [];
  const n = IMAGE_SIZE * IMAGE_SIZE * 3;
  const rec = r.tasks.reconstruct;
  const C = m.dims.C;
  const P = m.dims.P;
  o.push('# M4SC evaluation report', '');
  if (ctx.options.quick) {
    o.push(
      '> **QUICK RUN** (`--quick`): a handful of samples and points, a smoke test of the tool. Not figures.',
      '',
    );
  }
  o.push(
    '> Generated by `m4sc-eval` (packages/semantic-codec/src/eval). Every number on this page comes from the run',
    '> described below; nothing is typed in by hand. To refresh it, run the command again (options:',
    '> `npm run eval -- --help`).',
    '',
    table(
      ['', ''],
      [
        [
          'bundle',
          `\`${m.name}\` ${m.version} at \`${ctx.bundleDir}\` — manifest sha256 \`${ctx.manifestSha256.slice(0, 16)}\`${
            ctx.bundleCommit ? `, last commit \`${ctx.bundleCommit}\`` : ''
          }`,
        ],
        [
          'trained',
          `${tr.steps ?? '?'} steps, seed ${tr.seed ?? '?'}, ${tr.date ?? '?'}, commit ${String(tr.commit ?? '?').slice(0, 10)} (\`${tr.command ?? '?'}\`)`,
        ],
        [
          'model',
          `D ${m.dims.D}, C ${C} symbols/token, P ${P} private tokens, image stride ${m.dims.imageStride}, projector ${(m.kan as { projector?: string } | undefined)?.projector ?? 'kan (assumed)'}`,
        ],
        ['date', ctx.date],
        ['machine', ctx.machine],
        [
          'command',
          `\`npm run eval${ctx.args ? ` --${ctx.args}` : ''}\` (the package's bin: \`m4sc-eval${ctx.args}\`), from the repository root`,
        ],
        ['runtime', `${ctx.seconds.toFixed(0)} s`],
        ['seed', `${ctx.options.seed} (channel noise, fades, packet losses)`],
        [
          'image path',
          {
            code: "`reconstruct` through the bundle's public image code (`streams.image`) everywhere (`--image-path code`; `m4sc-send --image-path code`)",
            learned:
              '`reconstruct` through the learned token path everywhere (`--image-path learned`; `m4sc-send --image-path learned`)',
            auto: photoCode
              ? "`reconstruct` as `m4sc-send` sends it by default (`--image-path auto`): photos through the bundle's public image code (`streams.image`), the synthetic scenes through the learned token path trained on them (docs/learned-image/EVAL.md: the learned path on the photos too)"
              : '`reconstruct` through the learned token path (`--image-path auto`; this bundle has no public image code)',
          }[ctx.options.imagePath],
        ],
      ],
    ),
    '',
  );

  o.push('## Targets', '', "From the issue; each is checked against this run's measurement.", '');
  const targets = evaluateTargets(r, n);
  o.push(
    table(
      ['target', 'measured', ''],
      targets.map((t) => [t.target, t.measured, mark(t.pass)]),
    ),
    '',
  );

  o.push('## Held-out data', '');
  for (const t of Object.values(r.tasks)) o.push(`- **${t.task}**: ${t.heldOut}.`);
  o.push(
    '',
    `Samples per point: ${Object.entries(ctx.plan.samples)
      .map(([k, v]) => `${k} ${Math.min(v, r.tasks[k as keyof typeof r.tasks]?.size ?? v)}`)
      .join(', ')}. No sample is in training's training split.`,
    '',
  );

  o.push(
    '## Method',
    '',
    `- **Symbols.** The channel encoder emits C = ${C} real symbols per token with mean power 1. An image of ${IMAGE_SIZE}×${IMAGE_SIZE} is ${(IMAGE_SIZE / m.dims.imageStride) ** 2} tokens; a private answer is P = ${P} tokens (${P * C} real symbols); a sentence is one token per word (a word-level text vocabulary) or per word piece (a word-piece one, docs/BUNDLE.md) plus \`<eos>\`${r.tasks.transmit ? ` (${(r.tasks.transmit.symbolsPerSample / C).toFixed(1)} tokens per held-out sentence on average)` : ''}. **k** = complex channel uses = real symbols / 2; **n** = H·W·3 = ${n} for the crops.`,
    '- **SNR** is per real symbol (noise variance 10^(−SNR/10)), as in training. **AWGN**: the ideal analog link training evaluates on (float symbols, no quantiser). **Rayleigh block fading**: one h ~ CN(0,1) per sample, perfect CSI, zero-forcing (`rayleigh()` with blockSize 0). The coder is conditioned on [SNR, 0].',
    `- **Packet loss** goes through what the network does: \`channelEncode\` conditioned on [${r.lossOp.snrDb} dB (the quantiser's SNR), loss rate], the real quantiser and \`packetize\` at operating point \`${r.lossOp.name}\` (${r.lossOp.bits} bits, ${r.lossOp.rateSymbols} symbols/token), each sample spread over at least ${ctx.options.packets} packets of ≤ ${r.maxPacketBytes} bytes (\`minPackets\`), each packet lost independently (\`erasure()\`), then \`depacketize\` (its mask marks lost symbols) and the channel decoder. No noise besides quantisation.`,
    ...(photoCode && m.streams?.image
      ? [
          `- **Images** (${ctx.options.imagePath === 'code' ? 'all' : 'the photos'}) use the bundle's public image code (\`streams.image\`, training/image_code.py; docs/BUNDLE.md): the analysis stage turns each ${m.streams.image.code.block}×${m.streams.image.code.block} block into its ${m.streams.image.code.coefficients} block-KLT coefficients (fitted on the training photos), the codec allocates their power for the coded SNR and rate (LMMSE), mixes each rank group with an orthogonal matrix, and sends the frame at mean power 1 with its scale as side information (a float32 in every packet; on the simulated channels assumed delivered: 32 bits, which at 0 dB, 1 bit per complex channel use, is ${((32 / ((IMAGE_SIZE * IMAGE_SIZE * 3) / 6)) * 100).toFixed(1)}% of a ${IMAGE_SIZE}×${IMAGE_SIZE} frame's ${(IMAGE_SIZE * IMAGE_SIZE * 3) / 6} channel uses at k/n = 1/6, and less above); the receiver's LMMSE over the symbols that arrived, then the synthesis stage. The same symbol layout, quantiser and packets as the token path. Rayleigh: the receiver reads the noise from the received power where it clearly exceeds the announced SNR. **Parity packets**: under packet loss the image code's packets are followed by parity packets of a Reed-Solomon code over them (packet.ts, fec.ts), as many as the sender adds for the loss rate it is conditioned on (\`parityFor\`: the fewest, at most one per data packet, for which a frame loses more than the code repairs with probability ≤ 10%); any N of a frame's N + m packets give its N data packets back. Their bytes are in the tables' bytes/frame; the classical baseline gets the frame's *data* bytes and parity packets by the same rule.`,
        ]
      : []),
    photoCode
      ? `- **Bandwidth ratio**: images are coded for each rate r of the ${C} symbols per token (the operating point names it): the first r·${(m.streams?.image?.code.block ?? m.dims.imageStride) ** 2 / m.dims.imageStride ** 2} of every block's coefficients, with their own power allocation; the decoder gets mask 0 for the rest.`
      : `- **Bandwidth ratio**: one encoding, rate prefixes of r of the ${C} symbols per token (the decoder gets mask 0 for the rest).`,
    `- **Classical baseline** (same run, same samples): JPEG and WebP from sharp ${'(libvips, default settings, 4:2:0 JPEG)'} at the largest quality 1–100 whose *whole file* (headers included) fits the capacity k·log2(1+SNR) bits of the same k channel uses — an ideal capacity-achieving channel code, an upper bound for any real digital link. When no quality fits, the receiver shows a mid-grey frame (all values ${GREY}): the "cliff", labelled *mid-grey guess*. On Rayleigh the baseline is a **genie** that knows each frame's fade and fits k·log2(1+|h|²·SNR) — stronger than any real digital sender without CSI. Under packet loss JPEG/WebP get the same bytes per frame as M4SC's packets (headers included) and travel in ${BASELINE_MTU_BYTES}-byte MTU packets; a frame is lost (mid-grey) when any of its packets is lost — the tables give the exact expectation over losses, a frame arriving with probability (1 − p)^packets ("sent" = that probability, averaged).`,
    `- **Raw text baseline** for \`transmit\`: the sentence as UTF-8 over the capacity of the same k channel uses as M4SC spends on it; a sentence that does not fit is **lost, not truncated** (an empty hypothesis in the corpus BLEU). Under packet loss it travels in one packet and is lost with it. Random fades and losses are drawn ${RAW_TEXT_DRAWS} times per point and the corpus BLEU averaged.`,
    '- **Metrics**: PSNR and SSIM (per-channel mean, 11×11 Gaussian) averaged per image; accuracy and caption exact match word for word after `<eos>`; BLEU is corpus BLEU (Papineni et al.), no smoothing, against the original words (a word the text vocabulary cannot spell can never match: see the ceiling in §1).',
    "- **Decoding** is batched through the bundle's stages with the same transposition as `codec.channelDecode` (checked equal in the tests); the packet path uses the codec's own `packetize`/`depacketize`.",
    '',
  );

  o.push('## 1. Quality versus SNR', '');
  if (rec) {
    o.push(
      '### Images (reconstruct, k/n = 1/6)',
      '',
      chart(ctx, 'snr-image', 'PSNR versus SNR'),
      snrImageTable(rec),
      '',
    );
    o.push(
      'JPEG/WebP cells: PSNR (mean quality of the frames sent, share of frames that fit); frames that do not fit count as the mid-grey guess.',
      '',
    );
    o.push(
      `Mid-grey guess: ${f2(rec.awgn[0]?.m['grey.psnr'])} dB PSNR, ${f3(rec.awgn[0]?.m['grey.ssim'])} SSIM.`,
      '',
    );
  }
  o.push(
    '### Tasks',
    '',
    chart(ctx, 'snr-tasks-awgn', 'task quality versus SNR, AWGN'),
    '**AWGN**',
    '',
    taskTable(r, 'awgn'),
    '',
  );
  o.push(
    chart(ctx, 'snr-tasks-rayleigh', 'task quality versus SNR, Rayleigh'),
    '**Rayleigh block fading** (raw text: genie capacity per sentence)',
    '',
    taskTable(r, 'rayleigh'),
    '',
  );
  if (r.transmitCeiling) {
    o.push(
      `Text ceiling: a perfect decoder that outputs \`<unk>\` for the words the vocabulary cannot spell scores BLEU-1 ${f3(r.transmitCeiling.bleu1)}, BLEU-4 ${f3(r.transmitCeiling.bleu4)} on these sentences.`,
      '',
      "\"+literals\": the words the vocabulary cannot spell go as UTF-8 beside the symbols (the packets' literal trailer, docs/BUNDLE.md), put back at their token positions by the receiver. On the simulated channels they are assumed delivered by an ideal code at capacity, log2(1 + SNR) bits per complex channel use at the point's (mean) SNR; what that costs, as a fraction of M4SC's own channel uses, is the `literal.overhead` in the JSON results (at AWGN 10 dB in the targets table). Under packet loss they travel in every packet of the sentence (real bytes) and are lost only when all its packets are.",
      '',
    );
  }
  const frames = (['caption', 'answer'] as const).flatMap((t) => {
    const a = r.tasks[t]?.atFrame;
    const p10 = r.tasks[t]?.awgn.find((p) => p.x === 10);
    if (!a || !p10) return [];
    const key = t === 'caption' ? 'exact' : 'accuracy';
    return [
      `${t === 'caption' ? 'caption exact match' : 'answer accuracy'} ${pc(a.m[key])} (${pc(p10.m[key])} at ${SCENE_SIZE}×${SCENE_SIZE})`,
    ];
  });
  if (frames.length) {
    const size = (r.tasks.caption?.atFrame ?? r.tasks.answer?.atFrame)!.size;
    const imageSize = m.streams?.private?.imageSize;
    o.push(
      `At the sender's ${size}×${size} frame (the same held-out scenes scaled up by pixel replication, AWGN 10 dB; the private path resamples frames to the bundle's \`streams.private.imageSize\`${imageSize ? `, ${imageSize.join('×')}` : ': none given, so none'}): ${frames.join('; ')}.`,
      '',
    );
  }
  if (r.classify64) {
    o.push(
      `Classification at AWGN 10 dB with ≤ ${CLASSIFY_SYMBOL_BUDGET} symbols/image (rate ${r.classify64.rateSymbols}/${C}, ${r.classify64.symbols} real symbols): accuracy ${pc(r.classify64.m.accuracy)}.`,
      '',
    );
  }

  o.push('## 2. Quality versus packet loss', '');
  if (rec) o.push(chart(ctx, 'loss-image', 'PSNR versus packet loss'), lossImageTable(rec), '');
  if (rec?.frameLoss?.length) o.push(frameLossTable(rec.frameLoss, r.maxPacketBytes), '');
  o.push(chart(ctx, 'loss-tasks', 'task quality versus packet loss'), taskTable(r, 'loss'), '');
  const bytesOf = (t: TaskResult | undefined) =>
    t?.loss[0]
      ? `${t.task} ${f2(t.loss[0].m.bytes).replace(/\.00$/, '')} B in ${f2(t.loss[0].m.packets).replace(/\.00$/, '')} packets`
      : '';
  const sizes = [rec, r.tasks.classify, r.tasks.caption, r.tasks.answer].map(bytesOf).filter((s) => s !== '');
  if (sizes.length)
    o.push(
      `Bytes per sample on the wire (headers included): ${sizes.join('; ')}${r.tasks.transmit?.loss[0] ? `; transmit ${r.tasks.transmit.loss[0].m.bytes!.toFixed(0)} B per sentence on average${r.tasks.transmit.loss[0].m['literal.bytes'] !== undefined ? ` (${r.tasks.transmit.loss[0].m['literal.bytes']!.toFixed(0)} B with literals)` : ''}` : ''}.`,
      '',
    );

  o.push('## 3. Image quality versus bandwidth ratio', '');
  if (rec?.bandwidth.length) {
    o.push(chart(ctx, 'bandwidth-image', 'PSNR versus k/n'), bandwidthTable(rec, C), '');
  } else o.push('_Not measured in this run._', '');

  o.push('## 4. Classical baseline and crossover', '');
  if (rec && rec.awgn[0]?.m['webp.psnr'] !== undefined) {
    o.push(
      crossoverText(rec.awgn, 'AWGN, k/n = 1/6'),
      crossoverText(rec.rayleigh, 'Rayleigh (genie baseline), k/n = 1/6'),
      '',
    );
    const low = rec.awgn.filter((p) => p.x <= 5);
    if (low.length) {
      o.push(
        `At SNR ≤ 5 dB the best classical PSNR is ${low.map((p) => `${f2(bestClassical(p.m))} dB at ${p.x} dB`).join(', ')}; M4SC: ${low.map((p) => `${f2(p.m.psnr)} dB`).join(', ')}.`,
        '',
      );
    }
    for (const b of rec.bandwidth) {
      o.push(crossoverBandwidth(b.snrDb, b.points));
    }
    o.push('');
  } else o.push('_Not measured in this run._', '');

  o.push('## 5. Ablations', '');
  const ab = ctx.trainingAblation;
  if (ab) {
    o.push(
      `KAN versus MLP projector and single-task versus multi-task, **as measured by training** (held-out subsets, AWGN 10 dB, full rate; equal training steps), from ${ab.source}:`,
      '',
      renderAblation(ab.data),
      '',
      "Runs: `multi-kan` (the two public-stream tasks, reconstruct and transmit, together; KAN projectors as shipped), `multi-mlp` (the same with MLP projectors of equal parameter count), `multi-all` (all five tasks, KAN), `single-<task>` (KAN, that task alone). These are training's equal-step runs of the first stage's recipe (`training/ablate`), far shorter than the shipped model's training, so compare them with each other, not with the figures above.",
      '',
    );
  } else {
    o.push(
      "_This bundle carries no ablation figures (`manifest.json` → `evaluation.ablation`), and `training/runs/ablation.json` is absent: training's `training/ablate` has not finished for it. Re-run this report once the trained bundle lands._",
      '',
    );
  }
  const flat = renderFlatEval(m.evaluation, r);
  if (flat) o.push(flat);
  if (r.ablationBundles.length) {
    o.push('Ablation bundles found beside the main one, evaluated in this run at AWGN 10 dB, full rate:', '');
    o.push(
      table(
        [
          'bundle',
          'projector',
          'reconstruct PSNR',
          'classify acc',
          'caption exact',
          'answer acc',
          'text BLEU-1',
        ],
        r.ablationBundles.map((b) => [
          `\`${b.dir}\` (${b.name} ${b.version})`,
          b.projector ?? '—',
          f2(b.metrics.reconstruct?.psnr),
          pc(b.metrics.classify?.accuracy),
          pc(b.metrics.caption?.exact),
          pc(b.metrics.answer?.accuracy),
          f3(b.metrics.transmit?.bleu1),
        ]),
      ),
      '',
    );
  } else {
    o.push(
      `No ablation ONNX bundles were found beside the main bundle (directories with a \`manifest.json\`)${ab ? ", so only training's figures above are shown" : ''}.`,
      '',
    );
  }

  o.push('## 6. Speed', '');
  if (r.timing) {
    const t = r.timing;
    o.push(
      table(
        ['measure', 'value'],
        [
          [
            `one ${t.width}×${t.height} frame, encodeSample + decodeSample (${t.op}, packets), median of ${t.runs}`,
            `${t.frameMsMedian.toFixed(1)} ms`,
          ],
          [
            '  of which encode / decode (median)',
            `${t.encodeMsMedian.toFixed(1)} / ${t.decodeMsMedian.toFixed(1)} ms`,
          ],
          ['90th percentile', `${t.frameMsP90.toFixed(1)} ms`],
          [
            `batched: ${t.batch} frames through each stage at once (best of 3)`,
            `${t.batchedFps.toFixed(0)} frames/s`,
          ],
        ],
      ),
      '',
      'CPU only (onnxruntime-node, execution provider cpu). The machine line above gives the load at the start: other jobs (training) share these cores, so these are upper bounds on latency.',
      '',
    );
  } else o.push('_Not measured in this run._', '');
  return `${o
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

function crossoverBandwidth(snrDb: number, points: readonly SweepPoint[]): string {
  const beats = points.filter((p) => bestClassical(p.m) > p.m.psnr!).map((p) => `1/${Math.round(1 / p.x)}`);
  return beats.length
    ? `- Bandwidth sweep at ${snrDb} dB: the best of JPEG/WebP + capacity beats M4SC at k/n ∈ {${beats.join(', ')}}.`
    : `- Bandwidth sweep at ${snrDb} dB: M4SC beats JPEG/WebP + capacity at every measured k/n.`;
}
