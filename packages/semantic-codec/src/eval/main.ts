/**
 * `m4sc-eval`: measures a bundle on held-out data and writes the report (docs/EVAL.md) with its plots
 * (docs/eval/*.svg, *.png). `main(argv)` returns the exit code: 0 done, 1 failed, 2 bad command line.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { loadBundle } from '../bundle.js';
import { createSemanticCodec } from '../codec.js';
import type { SemanticCodec } from '../codecTypes.js';
import type { Manifest } from '../manifest.js';
import { loadOrtNode } from '../node.js';
import type { OrtLike } from '../ortTypes.js';
import { buildCharts } from './charts.js';
import { type EvalOptions, makePlan, parseEvalArgs, USAGE, UsageError } from './options.js';
import { writeChart } from './plot.js';
import { renderReport } from './report.js';
import { runEvaluation } from './run.js';
import { loadSharp } from './sharp.js';

export interface CliIo {
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
  /** Directory that relative paths are resolved against; default process.cwd(). */
  readonly cwd?: string;
}

const defaultIo: CliIo = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
};

/** Every chart name the report may contain: removed before a run so that no stale plot survives. */
const CHART_NAMES = [
  'snr-image',
  'snr-tasks-awgn',
  'snr-tasks-rayleigh',
  'loss-image',
  'loss-tasks',
  'bandwidth-image',
];

function shellQuote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

function gitCommitOf(dir: string): string | undefined {
  const r = spawnSync('git', ['log', '-1', '--format=%h %cs', '--', '.'], { cwd: dir, encoding: 'utf8' });
  const s = r.status === 0 ? r.stdout.trim() : '';
  return s === '' ? undefined : s;
}

function readTrainingAblation(manifest: Manifest, cwd: string, bundleDir: string) {
  const ev = manifest.evaluation as { ablation?: unknown } | undefined;
  if (ev && typeof ev === 'object' && ev.ablation) {
    return {
      source: '`manifest.json` → `evaluation.ablation` (written by `training/ablate`)',
      data: ev.ablation,
    };
  }
  for (const p of [
    join(cwd, 'training/runs/ablation.json'),
    resolve(bundleDir, '../../training/runs/ablation.json'),
  ]) {
    if (existsSync(p)) {
      return {
        source: `\`${relative(cwd, p)}\` (written by \`training/ablate\`; not yet in the bundle's manifest)`,
        data: JSON.parse(readFileSync(p, 'utf8')) as unknown,
      };
    }
  }
  return undefined;
}

async function machineLine(ort: OrtLike, threads: number): Promise<string> {
  const cpus = os.cpus();
  const sharp = await loadSharp();
  const ortVersion = (ort as { env?: { versions?: Record<string, string> } }).env?.versions?.node ?? '?';
  const load = os
    .loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');
  return [
    `${cpus[0]?.model ?? 'unknown CPU'} × ${cpus.length} (${os.availableParallelism()} usable)`,
    `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM`,
    `${os.type()} ${os.release()} ${os.arch()}`,
    `Node ${process.version}`,
    `onnxruntime-node ${ortVersion} (cpu, ${threads > 0 ? `${threads} intra-op threads` : 'default threads'})`,
    `sharp ${sharp.versions.sharp ?? '?'} / libvips ${sharp.versions.vips}`,
    `load average at start ${load}`,
  ].join('; ');
}

async function openCodec(dir: string, ort: OrtLike, threads: number): Promise<SemanticCodec> {
  const bundle = await loadBundle(dir, {
    ort,
    ...(threads > 0 ? { sessionOptions: { intraOpNumThreads: threads, interOpNumThreads: 1 } } : {}),
  });
  return createSemanticCodec({ bundle });
}

async function writeReport(options: EvalOptions, argv: readonly string[], io: CliIo): Promise<void> {
  const cwd = io.cwd ?? process.cwd();
  const started = performance.now();
  const log = (msg: string) =>
    io.stderr(`[m4sc-eval ${((performance.now() - started) / 1000).toFixed(1)}s] ${msg}\n`);
  const bundleDir = resolve(cwd, options.bundle);
  if (!existsSync(join(bundleDir, 'manifest.json'))) {
    throw new Error(`no model bundle at ${bundleDir} (no manifest.json); give one with --bundle DIR`);
  }
  const out = resolve(cwd, options.out);
  const plotDir = join(dirname(out), 'eval');
  const plan = makePlan(options);
  const ort = await loadOrtNode();
  const machine = await machineLine(ort, options.threads);
  log(`bundle ${bundleDir}`);
  const owned: SemanticCodec[] = [];
  const open = async (dir: string) => {
    const c = await openCodec(dir, ort, options.threads);
    owned.push(c);
    return c;
  };
  const codec = await open(bundleDir);
  try {
    const results = await runEvaluation(codec, options, plan, log, open);
    log('writing plots');
    await mkdir(plotDir, { recursive: true });
    for (const name of CHART_NAMES) {
      await rm(join(plotDir, `${name}.svg`), { force: true });
      await rm(join(plotDir, `${name}.png`), { force: true });
    }
    const charts: Record<string, { svg: string; png: string }> = {};
    const rel = (p: string) => relative(dirname(out), p).split(sep).join('/');
    for (const [name, spec] of Object.entries(buildCharts(results))) {
      const f = await writeChart(spec, plotDir, name);
      charts[name] = { svg: rel(f.svg), png: rel(f.png) };
    }
    const manifestBytes = readFileSync(join(bundleDir, 'manifest.json'));
    const bundleCommit = gitCommitOf(bundleDir);
    const trainingAblation = readTrainingAblation(codec.manifest, cwd, bundleDir);
    const args = argv.map((a) => ` ${shellQuote(a)}`).join('');
    const md = renderReport(results, {
      bundleDir: relative(cwd, bundleDir).split(sep).join('/') || '.',
      manifest: codec.manifest,
      manifestSha256: createHash('sha256').update(manifestBytes).digest('hex'),
      ...(bundleCommit ? { bundleCommit } : {}),
      date: new Date().toISOString(),
      machine,
      args,
      seconds: (performance.now() - started) / 1000,
      options,
      plan,
      charts,
      ...(trainingAblation ? { trainingAblation } : {}),
    });
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, md);
    log(
      `wrote ${relative(cwd, out)} and ${Object.keys(charts).length} plots in ${relative(cwd, plotDir) || '.'}/`,
    );
  } finally {
    for (const c of owned) await c.close();
  }
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  let parsed: ReturnType<typeof parseEvalArgs>;
  try {
    parsed = parseEvalArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`m4sc-eval: ${e.message}\nRun 'm4sc-eval --help' for the options.\n`);
      return 2;
    }
    throw e;
  }
  if (parsed.help) {
    io.stdout(USAGE);
    return 0;
  }
  try {
    await writeReport(parsed.options, argv, io);
    return 0;
  } catch (e) {
    io.stderr(`m4sc-eval: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
