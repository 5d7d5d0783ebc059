/**
 * The browser receiver in real Chromium (Debian's, through playwright-core), against the built
 * `m4sc-send --source synthetic` and `m4sc-recv --web`. One Chromium at a time: every browser test is in
 * this file, and they run in order.
 *
 * Results are checked against the synthetic ground truth of their seq and against what onnxruntime-node
 * decodes for the same sample with the same bundle (measured here, so a retrained bundle needs no edits):
 * - frames: PSNR (canvas vs truth) ≥ Node's PSNR − 1 dB, and the canvas matches Node's decode (≥ 30 dB);
 * - text: ≥ 10 results; accuracy ≥ Node's accuracy on the same samples − 0.1; ≥ 80 % of the browser's
 *   texts equal Node's (wasm and CPU kernels may round an argmax differently now and then).
 */
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatWebBench, runWebBench } from '@m4sc/receiver/web';
import { psnr, type SemanticCodec } from '@m4sc/semantic-codec';
import { createNodeSemanticCodec } from '@m4sc/semantic-codec/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BIN,
  type Browser,
  BUNDLE_DIR,
  launchBrowser,
  NO_MDNS,
  type PageResult,
  type Proc,
  ROOT,
  start,
  startSyntheticSender,
  startWebServer,
  truthOf,
  until,
} from './helpers.js';

const QUESTION = 'how many shapes are there ?';
/** Text results needed per task before judging accuracy. */
const MIN_TEXT_RESULTS = 10;
/** Frames read back from the canvas and compared. */
const FRAMES_CHECKED = 5;

let ref: SemanticCodec;
let web: { proc: Proc; url: string };
const procs: Proc[] = [];

beforeAll(async () => {
  [ref, web] = await Promise.all([
    createNodeSemanticCodec({ bundleDir: BUNDLE_DIR, executionProviders: ['cpu'] }),
    startWebServer(),
  ]);
  procs.push(web.proc);
}, 60_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await ref?.close();
});

function pageUrl(params: Record<string, string>): string {
  return `${web.url}?${new URLSearchParams(params)}`;
}

/** What onnxruntime-node decodes for sample `seq` at `op`, with no loss. */
async function nodeDecode(
  seq: number,
  task: string,
  op: NonNullable<PageResult['op']>,
  query?: string,
  publicImage: 'learned' | 'code' = 'learned',
): Promise<{ rgb?: Uint8Array; text?: string }> {
  const t = truthOf(seq);
  const opp =
    ref.operatingPoints.find(
      (o) => o.name === op.name && o.rateSymbols === op.rateSymbols && o.bits === op.bits,
    ) ?? (op as never);
  const enc = await ref.encodeSample({ image: { data: t.rgb, width: 32, height: 32 } }, opp, {
    instructions: task === 'reconstruct' ? [] : [{ task, ...(query ? { query } : {}) }],
    publicImage,
  });
  if (task === 'reconstruct') {
    const d = await ref.decodeSample({
      stream: 'public',
      modality: 'image',
      packets: enc.public.packets,
      op: opp,
    });
    if (d.kind !== 'image') throw new Error('expected an image');
    const f = d.image.data;
    const rgb = new Uint8Array(f.length);
    for (let i = 0; i < f.length; i++) rgb[i] = Math.max(0, Math.min(255, Math.round(Number(f[i]) * 255)));
    return { rgb };
  }
  const s = enc.private[0]!;
  const d = await ref.decodeSample({
    stream: 'private',
    instruction: s.instruction!,
    packets: s.packets,
    op: opp,
  });
  if (d.kind !== 'text') throw new Error('expected text');
  return { text: d.text.text };
}

async function results(b: Browser): Promise<PageResult[]> {
  return (await b.page.evaluate(
    () => (globalThis as never as { m4sc: { results: unknown[] } }).m4sc.results,
  )) as PageResult[];
}

/** Checks ≥ MIN_TEXT_RESULTS results of `task` against the truth and against Node's decode. */
async function checkText(all: PageResult[], task: string, truth: (seq: number) => string, query?: string) {
  const got = all.filter((r) => r.task === task && r.lostPackets === 0 && r.op);
  expect(got.length).toBeGreaterThanOrEqual(MIN_TEXT_RESULTS);
  let right = 0;
  let nodeRight = 0;
  let agree = 0;
  for (const r of got) {
    const n = await nodeDecode(r.seq, task, r.op!, query);
    if (r.text === truth(r.seq)) right++;
    if (n.text === truth(r.seq)) nodeRight++;
    if (n.text === r.text) agree++;
  }
  const acc = right / got.length;
  const nodeAcc = nodeRight / got.length;
  console.log(
    `${task}: ${got.length} results, accuracy browser ${acc.toFixed(2)} node ${nodeAcc.toFixed(2)}, agreement ${(agree / got.length).toFixed(2)}`,
  );
  expect(acc).toBeGreaterThanOrEqual(nodeAcc - 0.1);
  expect(agree / got.length).toBeGreaterThanOrEqual(0.8);
}

describe('browser receiver', () => {
  it('decodes frames of the public image code (m4sc-send --image-code) onto the canvas as Node does', async () => {
    const sender = await startSyntheticSender(['--image-code', '--room', 'code']);
    procs.push(sender.proc);
    const b = await launchBrowser([NO_MDNS]);
    const page = () =>
      b.page.evaluate(() => (globalThis as never as { m4sc: { frames: number; stages: string[] } }).m4sc);
    try {
      await b.page.goto(pageUrl({ signal: sender.signal, room: 'code', task: 'reconstruct' }));
      await until(async () => (await page()).frames >= 5, 'five frames on the canvas', 45_000).catch((e) => {
        throw new Error(`${e.message}\n${b.console.join('\n')}`);
      });
      expect((await page()).stages).toContain('image.synthesis');
      const checked = new Set<number>();
      while (checked.size < 3) {
        const f = (await b.page.evaluate(() =>
          (globalThis as never as { m4sc: { readCanvas(): unknown } }).m4sc.readCanvas(),
        )) as { seq: number; rgb: number[] };
        const r = (await results(b)).find((x) => x.seq === f.seq && x.task === 'reconstruct');
        if (!checked.has(f.seq) && r?.op && r.lostPackets === 0) {
          checked.add(f.seq);
          const canvas = Uint8Array.from(f.rgb);
          const node = (await nodeDecode(f.seq, 'reconstruct', r.op, undefined, 'code')).rgb!;
          const truth = truthOf(f.seq).rgb;
          // The browser's onnxruntime-web synthesis and the TypeScript LMMSE give what Node gives.
          expect(psnr(node, canvas)).toBeGreaterThanOrEqual(30);
          expect(psnr(truth, canvas)).toBeGreaterThanOrEqual(psnr(truth, node) - 1);
        }
        await new Promise((res) => setTimeout(res, 150));
      }
    } finally {
      await b.close();
    }
  }, 90_000);

  it('decodes frames onto the canvas, then captions and answers after live task switches', async () => {
    const sender = await startSyntheticSender();
    procs.push(sender.proc);
    const b = await launchBrowser([NO_MDNS]);
    try {
      await b.page.goto(pageUrl({ signal: sender.signal, room: 'demo', task: 'reconstruct' }));
      const m4sc = () =>
        b.page.evaluate(
          () =>
            (
              globalThis as never as {
                m4sc: { frames: number; state: string; backend: string; stages: string[] };
              }
            ).m4sc,
        );
      await until(async () => (await m4sc()).frames >= 10, 'ten frames on the canvas', 45_000).catch((e) => {
        throw new Error(`${e.message}\n${b.console.join('\n')}`);
      });
      expect((await m4sc()).backend).toMatch(/wasm|webgpu/);
      // the page loads the receiver's half of the bundle: decoders (and the public image code's synthesis) only
      const stages = (await m4sc()).stages;
      expect(stages).toEqual(
        expect.arrayContaining(['image_decoder', 'task_decoder', 'channel_decoder', 'image.synthesis']),
      );
      expect(stages.filter((s) => !s.endsWith('decoder') && s !== 'image.synthesis')).toEqual([]);

      // Frames: what the canvas shows vs the ground truth and vs Node's decode of the same sample.
      const frameResults = (await results(b)).filter((r) => r.task === 'reconstruct');
      const checked = new Set<number>();
      let sumBrowser = 0;
      let sumNode = 0;
      while (checked.size < FRAMES_CHECKED) {
        const f = (await b.page.evaluate(() =>
          (globalThis as never as { m4sc: { readCanvas(): unknown } }).m4sc.readCanvas(),
        )) as {
          seq: number;
          width: number;
          height: number;
          rgb: number[];
        };
        if (!checked.has(f.seq)) {
          checked.add(f.seq);
          expect([f.width, f.height]).toEqual([32, 32]);
          const canvas = Uint8Array.from(f.rgb);
          const truth = truthOf(f.seq).rgb;
          const op =
            (await results(b)).find((r) => r.seq === f.seq && r.task === 'reconstruct')?.op ??
            frameResults[0]!.op!;
          const node = (await nodeDecode(f.seq, 'reconstruct', op)).rgb!;
          sumBrowser += psnr(truth, canvas);
          sumNode += psnr(truth, node);
          expect(psnr(node, canvas)).toBeGreaterThanOrEqual(30);
        }
        await new Promise((r) => setTimeout(r, 150));
      }
      const meanB = sumBrowser / FRAMES_CHECKED;
      const meanN = sumNode / FRAMES_CHECKED;
      console.log(
        `reconstruct: canvas PSNR ${meanB.toFixed(2)} dB, node ${meanN.toFixed(2)} dB over ${FRAMES_CHECKED} frames`,
      );
      expect(meanB).toBeGreaterThanOrEqual(meanN - 1);

      // Switch to caption through the page's controls.
      await b.page.selectOption('#task', 'caption');
      await b.page.click('#apply');
      await until(
        async () => (await results(b)).filter((r) => r.task === 'caption').length >= MIN_TEXT_RESULTS + 2,
        'captions',
        30_000,
      );
      await checkText(await results(b), 'caption', (seq) => truthOf(seq).caption);

      // Then answer a question.
      await b.page.selectOption('#task', 'answer');
      await b.page.fill('#query', QUESTION);
      await b.page.click('#apply');
      await until(
        async () => (await results(b)).filter((r) => r.task === 'answer').length >= MIN_TEXT_RESULTS + 2,
        'answers',
        30_000,
      );
      const answerOf = (seq: number) => truthOf(seq).qa.find(([q]) => q === QUESTION)![1];
      await checkText(await results(b), 'answer', answerOf, QUESTION);

      // The text panel shows the latest answer with its latency.
      await expect.poll(() => b.page.textContent('tr[data-task="answer"] .lat')).toMatch(/\d+ ms/);
      const errors = await b.page.evaluate(
        () => (globalThis as never as { m4sc: { errors: unknown[] } }).m4sc.errors,
      );
      expect(errors).toEqual([]);
      await mkdir(join(ROOT, 'test-artifacts'), { recursive: true });
      await b.page.screenshot({ path: join(ROOT, 'test-artifacts/browser-e2e.png'), fullPage: true });
    } finally {
      await b.close();
      await sender.proc.stop();
    }
  }, 150_000);

  it('shares a room with a Node m4sc-recv: both get results (Chromium hiding its addresses behind mDNS)', async () => {
    const sender = await startSyntheticSender(['--room', 'mixed']);
    procs.push(sender.proc);
    const node = start(BIN.recv, [
      '--signal',
      sender.signal,
      '--room',
      'mixed',
      '--task',
      'caption',
      '--quiet',
    ]);
    procs.push(node);
    // No NO_MDNS flag: the page rewrites its `.local` candidates itself.
    const b = await launchBrowser();
    try {
      await b.page.goto(pageUrl({ signal: sender.signal, room: 'mixed', task: 'reconstruct' }));
      await until(
        async () => (await results(b)).filter((r) => r.task === 'reconstruct').length >= 5,
        'browser frames',
        45_000,
      ).catch((e) => {
        throw new Error(`${e.message}\n${b.console.join('\n')}`);
      });
      const lines = await until(
        () => {
          const l = node
            .output()
            .split('\n')
            .filter((x) => x.startsWith('{'))
            .map((x) => JSON.parse(x) as { task: string; result?: string });
          return l.filter((x) => x.task === 'caption').length >= 5 ? l : undefined;
        },
        'Node receiver captions',
        30_000,
      );
      expect(lines.every((l) => typeof l.result === 'string')).toBe(true);
      // Both at once: the browser keeps receiving while the Node receiver is in the room.
      const before = (await results(b)).length;
      await until(async () => (await results(b)).length >= before + 3, 'more browser frames', 10_000);
    } finally {
      await b.close();
      await node.stop();
      await sender.proc.stop();
    }
  }, 120_000);

  it('says in words what is wrong (signaling unreachable, token, no sender, broken model) and keeps running', async () => {
    const secret = 'browser-test-secret';
    const signal = start(BIN.signal, ['--port', '0', '--secret', secret, '--quiet']);
    procs.push(signal);
    const signalUrl = (await signal.waitFor(/(ws:\/\/[\d.]+:\d+)/))[1]!;
    const token = start(BIN.signal, ['token', '--secret', secret, '--room', 'empty', '--role', 'receiver']);
    const goodToken = (await token.waitFor(/^(\S+\.\S+)$/m))[1]!;
    const broken = await mkdtemp(join(tmpdir(), 'm4sc-broken-bundle-'));
    await cp(BUNDLE_DIR, broken, { recursive: true });
    await writeFile(join(broken, 'image_decoder.onnx'), 'not a model');
    const brokenWeb = await startWebServer(['--bundle', broken]);
    procs.push(brokenWeb.proc);
    const b = await launchBrowser();
    const errorText = () => b.page.textContent('#error-text');
    const kind = () => b.page.getAttribute('#error', 'data-kind');
    try {
      // Signaling unreachable; Retry fails the same way and the page stays alive.
      await b.page.goto(pageUrl({ signal: 'ws://127.0.0.1:9', room: 'nowhere' }));
      await expect
        .poll(errorText, { timeout: 30_000 })
        .toMatch(/Signaling server unreachable at ws:\/\/127\.0\.0\.1:9/);
      expect(await b.page.isVisible('#retry')).toBe(true);
      await b.page.click('#retry');
      await expect.poll(errorText, { timeout: 15_000 }).toMatch(/unreachable/);
      expect(await b.page.textContent('#state')).toBe('not joined');

      // No token, then a bad one.
      await b.page.goto(pageUrl({ signal: signalUrl, room: 'empty' }));
      await expect.poll(kind, { timeout: 30_000 }).toBe('token-missing');
      expect(await errorText()).toMatch(/Room 'empty' needs a token/);
      await b.page.goto(pageUrl({ signal: signalUrl, room: 'empty', token: 'e30.c2ln' }));
      await expect.poll(kind, { timeout: 30_000 }).toBe('token-refused');
      expect(await errorText()).toMatch(/Token refused by the signaling server \(token-/);

      // A good token into a room with no sender: joined, and it says no sender has come.
      await b.page.goto(pageUrl({ signal: signalUrl, room: 'empty', token: goodToken }));
      await expect.poll(kind, { timeout: 30_000 }).toBe('sender-absent');
      expect(await errorText()).toMatch(/no sender has connected .* --room empty/);

      // A bundle that fails its checksum.
      await b.page.goto(
        `${brokenWeb.url}?${new URLSearchParams({ signal: signalUrl, room: 'empty', token: goodToken })}`,
      );
      await expect.poll(kind, { timeout: 30_000 }).toBe('model');
      expect(await errorText()).toMatch(/Model failed to load \(image_decoder\.onnx\)/);
      expect(await b.page.isVisible('#retry')).toBe(true);
    } finally {
      await b.close();
      await brokenWeb.proc.stop();
      await signal.stop();
      await rm(broken, { recursive: true, force: true });
    }
  }, 120_000);

  it('the web benchmark measures browser and Node decode times and the latency to the canvas', async () => {
    const r = await runWebBench({
      samples: 3,
      streamSeconds: 2,
      tasks: ['reconstruct', 'caption'],
      backend: 'wasm',
    });
    console.log(formatWebBench(r));
    expect(r.backend).toBe('wasm');
    for (const t of ['reconstruct', 'caption']) {
      expect(r.decode[t]!.browserP50Ms).toBeGreaterThan(0);
      expect(r.decode[t]!.nodeP50Ms).toBeGreaterThan(0);
    }
    expect(r.stream!.frames).toBeGreaterThan(0);
    expect(r.stream!.canvasLatencyMs.p50).toBeGreaterThanOrEqual(0);
  }, 120_000);
});
