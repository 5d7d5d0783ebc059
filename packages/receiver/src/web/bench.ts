/**
 * `npm run bench -- web`: the browser receiver's figures, each beside its baseline from the same run on
 * the same machine.
 *
 * - decode time per sample per task: onnxruntime-web in Chromium (the page's own codec and loop,
 *   `web/bench.ts`) vs onnxruntime-node (the same loop here), on the same held-out synthetic scenes;
 * - end-to-end latency to the canvas: `m4sc-send --source synthetic` → the page, capture on the sender to
 *   the first animation frame after the frame was drawn (the receiver's own latency is printed beside it).
 *
 * Needs Debian's Chromium (`/usr/bin/chromium`, or `M4SC_CHROMIUM`) and the root devDependency
 * playwright-core (never a downloaded browser), and the built sender (`npm run build`).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateScene, renderScene, SCENE_SIZE, type SemanticCodec } from '@m4sc/semantic-codec';
import { createNodeSemanticCodec } from '@m4sc/semantic-codec/node';
import { percentile } from '@m4sc/transport';
import { createWebServer, DEFAULT_WEB_BUNDLE_DIR } from './server.js';

/** Options of {@link runWebBench}. */
export interface WebBenchOptions {
  /** Samples timed per task (after one warm-up). Default 30. */
  samples?: number;
  /** Tasks timed. Default reconstruct, classify, caption, answer. */
  tasks?: string[];
  /** Seconds of live streaming for the canvas latency; 0 skips it. Default 8. */
  streamSeconds?: number;
  /** onnxruntime-web backend of the page. Default `auto` (WebGPU when Chromium has an adapter, else wasm). */
  backend?: 'auto' | 'wasm' | 'webgpu';
  /** Model bundle. Default models/default. */
  bundleDir?: string;
  /** Chromium binary. Default `M4SC_CHROMIUM` or /usr/bin/chromium. */
  chromium?: string;
  /** The built `m4sc-send`. Default packages/sender/dist/cli.js of this repository. */
  senderCli?: string;
  /** Progress lines; default none. */
  log?: (line: string) => void;
}

/** Per task: decode time of one sample, milliseconds. */
export interface DecodeFigures {
  /** Median in Chromium (onnxruntime-web). */
  browserP50Ms: number;
  browserMeanMs: number;
  /** Median in Node (onnxruntime-node, CPU), the baseline. */
  nodeP50Ms: number;
  nodeMeanMs: number;
  samples: number;
}

/** What {@link runWebBench} measured. */
export interface WebBenchResult {
  /** The page's backend (`wasm` or `webgpu`) and, when WebGPU was not used, why. */
  backend: string;
  fallback?: string;
  /** Time for the page to fetch, check and load the bundle on onnxruntime-web, ms. */
  modelLoadMs: number;
  decode: Record<string, DecodeFigures>;
  /** Live stream to the page (absent when `streamSeconds` is 0). */
  stream?: {
    frames: number;
    /** Capture on the sender to the frame on screen (next animation frame after drawing), ms. */
    canvasLatencyMs: { p50: number; p95: number };
    /** Capture to decoded, as the receiver core reports it, ms. */
    receiverLatencyMs: { p50: number; p95: number };
    /** The page's decode time per frame, ms. */
    decodeMs: { p50: number; p95: number };
  };
}

const QUERY = 'how many shapes are there ?';
const DEFAULT_TASKS = ['reconstruct', 'classify', 'caption', 'answer'];
const DEFAULT_SENDER_CLI = fileURLToPath(new URL('../../../sender/dist/cli.js', import.meta.url));

/** The page's loop (`web/bench.ts`), on onnxruntime-node. */
async function nodeDecodeTimes(codec: SemanticCodec, samples: number, tasks: string[]) {
  const op = codec.operatingPoints[0]!;
  const priv = tasks
    .filter((t) => t !== 'reconstruct')
    .map((task) => ({ task, ...(task === 'answer' ? { query: QUERY } : {}) }));
  const times: Record<string, number[]> = Object.fromEntries(tasks.map((t) => [t, []]));
  const warmup = 5; // as the page's loop
  for (let i = 0; i < samples + warmup; i++) {
    const data = renderScene(generateScene(9 + 10 * i));
    const enc = await codec.encodeSample({ image: { data, width: SCENE_SIZE, height: SCENE_SIZE } }, op, {
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
  return times;
}

const p = (xs: number[], q: number) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    q,
  );
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** Runs the browser receiver benchmark (one Chromium, one sender); see the module comment. */
export async function runWebBench(options: WebBenchOptions = {}): Promise<WebBenchResult> {
  const samples = options.samples ?? 30;
  const tasks = options.tasks ?? DEFAULT_TASKS;
  const streamSeconds = options.streamSeconds ?? 8;
  const bundleDir = options.bundleDir ?? DEFAULT_WEB_BUNDLE_DIR;
  const log = options.log ?? (() => {});
  const { chromium } = await import('playwright-core');

  log('web bench: onnxruntime-node decode loop');
  const nodeCodec = await createNodeSemanticCodec({ bundleDir, executionProviders: ['cpu'] });
  let nodeTimes: Record<string, number[]>;
  try {
    nodeTimes = await nodeDecodeTimes(nodeCodec, samples, tasks);
  } finally {
    await nodeCodec.close();
  }

  const server = await createWebServer({ port: 0, bundleDir });
  const profile = await mkdtemp(join(tmpdir(), 'm4sc-bench-chromium-'));
  const sender =
    streamSeconds > 0
      ? spawn(
          process.execPath,
          [
            options.senderCli ?? DEFAULT_SENDER_CLI,
            '--source',
            'synthetic',
            '--signal-port',
            '0',
            '--quiet',
            '--bundle',
            bundleDir,
          ],
          {
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        )
      : undefined;
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: options.chromium ?? process.env.M4SC_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...(options.backend === 'wasm' ? ['--disable-gpu'] : []),
    ],
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    type Win = { m4sc: Record<string, unknown> & { bench?: (o: unknown) => Promise<unknown> } };
    const q = new URLSearchParams({ backend: options.backend ?? 'auto', autojoin: '0' });
    await page.goto(`${server.url}?${q}`);
    await page.waitForFunction(
      () =>
        !!(globalThis as unknown as Win).m4sc.bench ||
        (globalThis as unknown as Win).m4sc.state === 'model failed',
      undefined,
      { timeout: 60_000 },
    );
    const info = (await page.evaluate(() => {
      const m = (globalThis as unknown as Win).m4sc;
      return { backend: m.backend, fallback: m.fallback, modelLoadMs: m.modelLoadMs, errors: m.errors };
    })) as { backend?: string; fallback?: string; modelLoadMs?: number; errors: { message: string }[] };
    if (!info.backend)
      throw new Error(`the page could not load the model: ${info.errors.map((e) => e.message).join('; ')}`);
    log(`web bench: onnxruntime-web (${info.backend}) decode loop in Chromium`);
    const browserTimes = (await page.evaluate((o) => (globalThis as unknown as Win).m4sc.bench!(o), {
      samples,
      tasks,
    })) as Record<string, { meanMs: number; p50Ms: number; samples: number }>;

    const decode: Record<string, DecodeFigures> = {};
    for (const t of tasks) {
      decode[t] = {
        browserP50Ms: browserTimes[t]!.p50Ms,
        browserMeanMs: browserTimes[t]!.meanMs,
        nodeP50Ms: p(nodeTimes[t]!, 50),
        nodeMeanMs: mean(nodeTimes[t]!),
        samples,
      };
    }
    const result: WebBenchResult = {
      backend: info.backend,
      ...(info.fallback ? { fallback: info.fallback } : {}),
      modelLoadMs: info.modelLoadMs ?? Number.NaN,
      decode,
    };

    if (sender) {
      const signal = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`m4sc-send did not start:\n${out}`)), 30_000);
        const on = (d: Buffer) => {
          out += d;
          const m = /listening on (ws:\/\/[\d.]+:\d+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        };
        sender.stdout!.on('data', on);
        sender.stderr!.on('data', on);
        sender.once('exit', (code) => reject(new Error(`m4sc-send exited (${code}):\n${out}`)));
      });
      log(`web bench: streaming to the page for ${streamSeconds} s`);
      await page.goto(
        `${server.url}?${new URLSearchParams({ backend: options.backend ?? 'auto', signal, task: 'reconstruct' })}`,
      );
      await page.waitForFunction(
        () => ((globalThis as unknown as Win).m4sc.frames as number) > 0,
        undefined,
        { timeout: 60_000 },
      );
      // Skip the first second: the clock-offset estimate settles with the first pings.
      await page.waitForTimeout(1000);
      await page.evaluate(() => {
        const m = (globalThis as unknown as Win).m4sc as { canvasLatencyMs: number[]; results: unknown[] };
        m.canvasLatencyMs.length = 0;
        m.results.length = 0;
      });
      await page.waitForTimeout(streamSeconds * 1000);
      const s = (await page.evaluate(() => {
        const m = (globalThis as unknown as Win).m4sc as {
          canvasLatencyMs: number[];
          results: { latencyMs: number; decodeMs: number; task: string }[];
        };
        return { canvas: [...m.canvasLatencyMs], results: m.results.filter((r) => r.task === 'reconstruct') };
      })) as { canvas: number[]; results: { latencyMs: number; decodeMs: number }[] };
      result.stream = {
        frames: s.results.length,
        canvasLatencyMs: { p50: p(s.canvas, 50), p95: p(s.canvas, 95) },
        receiverLatencyMs: {
          p50: p(
            s.results.map((r) => r.latencyMs),
            50,
          ),
          p95: p(
            s.results.map((r) => r.latencyMs),
            95,
          ),
        },
        decodeMs: {
          p50: p(
            s.results.map((r) => r.decodeMs),
            50,
          ),
          p95: p(
            s.results.map((r) => r.decodeMs),
            95,
          ),
        },
      };
    }
    return result;
  } finally {
    await context.close().catch(() => {});
    sender?.kill('SIGTERM');
    await server.close();
    await rm(profile, { recursive: true, force: true });
  }
}

/** The result as a few printable lines. */
export function formatWebBench(r: WebBenchResult): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');
  const lines = [
    `browser receiver: onnxruntime-web ${r.backend}${r.fallback ? ` (${r.fallback})` : ''}, model loaded in ${f(r.modelLoadMs)} ms`,
    'decode per sample, ms (p50)   browser   node   browser/node',
  ];
  for (const [task, d] of Object.entries(r.decode))
    lines.push(
      `  ${task.padEnd(27)} ${f(d.browserP50Ms).padStart(7)} ${f(d.nodeP50Ms).padStart(6)}   ${f(d.browserP50Ms / d.nodeP50Ms).padStart(6)}×`,
    );
  if (r.stream) {
    const s = r.stream;
    lines.push(
      `live stream, ${s.frames} frames: capture → canvas p50 ${f(s.canvasLatencyMs.p50)} ms, p95 ${f(s.canvasLatencyMs.p95)} ms` +
        ` (capture → decoded p50 ${f(s.receiverLatencyMs.p50)} ms; decode p50 ${f(s.decodeMs.p50)} ms)`,
    );
  }
  return lines.join('\n');
}
