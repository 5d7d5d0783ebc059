// End to end with real processes over loopback: m4sc-send (synthetic scenes) and three m4sc-recv on
// different tasks. Each receiver's output is checked two ways:
//  1. against what the same bundle decodes locally from the same scene over a clean channel (exact: the
//     network path must add nothing but the 8-bit quantiser the operating point names);
//  2. against the synthetic ground truth, with thresholds from the bundle's own held-out evaluation
//     (manifest.evaluation.conditions['q8-noiseless'], the network's channel state: an 8-bit quantiser and
//     no noise) minus a stated margin. Caption is checked by corpus BLEU-4, since exact match is too rare
//     with the shipped bundle (≈ 5%) for any margin to leave a test that can fail. Reconstruction has no
//     held-out figure on scenes (the bundle's is on photos), so it is checked against a floor computed
//     from the data: better than the best flat frame (each scene's mean colour) by a margin.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  corpusBleu,
  generateScene,
  psnr,
  renderScene,
  type SemanticCodec,
  sceneCaption,
  sceneQuestions,
} from '@m4sc/semantic-codec';
import { createNodeSemanticCodec } from '@m4sc/semantic-codec/node';
import { DEFAULT_BUNDLE_DIR } from '@m4sc/sender';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, type Proc, run } from '../cli/helpers.js';
import { localDecode, sceneSeed } from './localDecode.js';

/** Margins below the bundle's held-out figures: ~40 live samples carry sampling noise (binomial σ ≤ 0.08). */
const ACCURACY_MARGIN = 0.2;
/** Corpus BLEU-4 of ~40 captions against the held-out figure (500 scenes). */
const BLEU_MARGIN = 0.15;
/** How much better than a flat frame of the scene's mean colour a reconstruction must be, dB. */
const FLAT_FRAME_MARGIN_DB = 1;

interface Line {
  seq: number;
  task: string;
  result?: string;
  file?: string;
  latencyMs: number;
  lostPackets: number;
}

let codec: SemanticCodec;
const procs: Proc[] = [];
const seed = sceneSeed;
const evaluation = JSON.parse(readFileSync(join(DEFAULT_BUNDLE_DIR, 'manifest.json'), 'utf8')).evaluation as {
  conditions?: Record<string, Record<string, Record<string, number>>>;
};
const clean = evaluation.conditions?.['q8-noiseless'];

beforeAll(async () => {
  codec = await createNodeSemanticCodec({ bundleDir: DEFAULT_BUNDLE_DIR });
});
afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await codec?.close();
});

const local = (seq: number, task: string, query?: string, publicImage: 'learned' | 'code' = 'learned') =>
  localDecode(codec, seq, task, query, publicImage);

const lines = (p: Proc): Line[] =>
  p
    .stdout()
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);

describe('m4sc-send and three m4sc-recv on different tasks', () => {
  it('each receiver gets its task, matching local decoding and the ground truth', async () => {
    expect(clean, 'manifest.evaluation.conditions has q8-noiseless').toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'm4sc-e2e-'));
    const sender = run(BIN.send, ['--signal-port', '0', '--fps', '6', '--room', 'e2e', '--adapt', 'off']);
    procs.push(sender);
    const [, url] = await sender.waitFor(/listening on (ws:\/\/\S+)/, 30_000);
    const question = 'how many shapes are there ?';
    const common = ['--signal', url!, '--room', 'e2e', '--duration', '10', '--quiet'];
    const recon = run(BIN.recv, [...common, '--task', 'reconstruct', '--out', dir]);
    const caption = run(BIN.recv, [...common, '--task', 'caption']);
    const answer = run(BIN.recv, [...common, '--task', 'answer', '--query', question]);
    procs.push(recon, caption, answer);
    expect(await Promise.all([recon.exited, caption.exited, answer.exited])).toEqual([0, 0, 0]);
    sender.child.kill('SIGINT');

    const rl = lines(recon);
    const cl = lines(caption);
    const al = lines(answer);
    for (const [name, l, p] of [
      ['reconstruct', rl, recon],
      ['caption', cl, caption],
      ['answer', al, answer],
    ] as const) {
      expect(l.length, `${name}: ${p.stderr()}`).toBeGreaterThan(15);
      expect(l.every((x) => x.task === name)).toBe(true);
      // Loopback loses nothing on a quiet host; a loaded one can overflow a UDP socket buffer now and then,
      // which the unreliable channels are built to tolerate. Almost every sample must still be whole.
      expect(l.filter((x) => x.lostPackets === 0).length / l.length, name).toBeGreaterThanOrEqual(0.9);
    }
    // The comparisons with the local decode below take whole samples only.
    const whole = (l: Line[]) => l.filter((x) => x.lostPackets === 0);
    expect(answer.stderr()).toMatch(/served on the private stream/);

    // 1. The network adds nothing: results equal the local decode of the same scene.
    for (const x of whole(cl).slice(-5)) expect(x.result).toBe(await local(x.seq, 'caption'));
    for (const x of whole(al).slice(-5)) expect(x.result).toBe(await local(x.seq, 'answer', question));
    for (const x of whole(rl).slice(-3)) {
      const { data } = await sharp(x.file!).raw().toBuffer({ resolveWithObject: true });
      const expected = (await local(x.seq, 'reconstruct')) as { data: Float32Array | Uint8Array };
      const exp8 = Uint8Array.from(expected.data as ArrayLike<number>, (v) =>
        expected.data instanceof Uint8Array ? v : Math.max(0, Math.min(255, Math.round(v * 255))),
      );
      expect(psnr(exp8, new Uint8Array(data))).toBeGreaterThan(45);
    }

    // 2. Against the ground truth, at the bundle's own held-out level minus a margin.
    const truthCaption = (seq: number) => sceneCaption(generateScene(seed(seq)));
    const truthAnswer = (seq: number) =>
      sceneQuestions(generateScene(seed(seq))).find(([q]) => q === question)![1];
    const captionExact = cl.filter((x) => x.result === truthCaption(x.seq)).length / cl.length;
    const words = (t: string) => t.split(' ').filter(Boolean);
    const captionBleu = corpusBleu(
      cl.map((x) => [words(truthCaption(x.seq))]),
      cl.map((x) => words(x.result ?? '')),
    ).bleu;
    const answerAcc = al.filter((x) => x.result === truthAnswer(x.seq)).length / al.length;
    expect(captionBleu).toBeGreaterThanOrEqual(clean!.caption!.bleu4! - BLEU_MARGIN);
    expect(answerAcc).toBeGreaterThanOrEqual(clean!.answer!.accuracy! - ACCURACY_MARGIN);
    const pairs = await Promise.all(
      rl.slice(-10).map(async (x) => {
        const { data } = await sharp(x.file!).raw().toBuffer({ resolveWithObject: true });
        const truth = renderScene(generateScene(seed(x.seq)));
        // The best flat frame: each channel's mean.
        const mean = [0, 1, 2].map(
          (c) => truth.filter((_, i) => i % 3 === c).reduce((a, b) => a + b, 0) / (truth.length / 3),
        );
        const flat = Uint8Array.from(truth, (_, i) => Math.round(mean[i % 3]!));
        return [psnr(truth, new Uint8Array(data)), psnr(truth, flat)] as const;
      }),
    );
    const meanPsnr = pairs.reduce((a, [p]) => a + p, 0) / pairs.length;
    const flatPsnr = pairs.reduce((a, [, f]) => a + f, 0) / pairs.length;
    expect(meanPsnr).toBeGreaterThanOrEqual(flatPsnr + FLAT_FRAME_MARGIN_DB);
    console.log(
      `e2e: caption BLEU-4 ${captionBleu.toFixed(2)} (bundle ${clean!.caption!.bleu4!.toFixed(2)}), exact ${captionExact.toFixed(2)} (bundle ${clean!.caption!.exact}), answer acc ${answerAcc.toFixed(2)} (bundle ${clean!.answer!.accuracy}), reconstruct PSNR ${meanPsnr.toFixed(1)} dB on scenes (flat frame ${flatPsnr.toFixed(1)} dB)`,
    );
  }, 90_000);

  it('with --image-code, reconstruct frames are the public image code: equal to its local decode, better than a flat frame', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'm4sc-e2e-code-'));
    const sender = run(BIN.send, [
      '--signal-port',
      '0',
      '--fps',
      '6',
      '--room',
      'e2e-code',
      '--adapt',
      'off',
      '--image-code',
    ]);
    procs.push(sender);
    const [, url] = await sender.waitFor(/listening on (ws:\/\/\S+)/, 30_000);
    const recon = run(BIN.recv, [
      '--signal',
      url!,
      '--room',
      'e2e-code',
      '--duration',
      '8',
      '--quiet',
      '--task',
      'reconstruct',
      '--out',
      dir,
    ]);
    procs.push(recon);
    expect(await recon.exited).toBe(0);
    sender.child.kill('SIGINT');
    const whole = lines(recon).filter((x) => x.lostPackets === 0);
    expect(whole.length, recon.stderr()).toBeGreaterThan(10);
    const to8 = (d: Float32Array | Uint8Array) =>
      Uint8Array.from(d as ArrayLike<number>, (v) =>
        d instanceof Uint8Array ? v : Math.max(0, Math.min(255, Math.round(v * 255))),
      );
    let code = 0;
    let learned = 0;
    let flat = 0;
    const last = whole.slice(-5);
    for (const x of last) {
      const { data } = await sharp(x.file!).raw().toBuffer({ resolveWithObject: true });
      const got = new Uint8Array(data);
      const viaCode = (await local(x.seq, 'reconstruct', undefined, 'code')) as { data: Float32Array };
      const viaLearned = (await local(x.seq, 'reconstruct')) as { data: Float32Array };
      expect(psnr(to8(viaCode.data), got)).toBeGreaterThan(45);
      const truth = renderScene(generateScene(seed(x.seq)));
      code += psnr(truth, got) / last.length;
      const mean = [0, 1, 2].map(
        (c) => truth.filter((_, i) => i % 3 === c).reduce((a, b) => a + b, 0) / (truth.length / 3),
      );
      flat +=
        psnr(
          truth,
          Uint8Array.from(truth, (_, i) => Math.round(mean[i % 3]!)),
        ) / last.length;
      learned += psnr(truth, to8(viaLearned.data)) / last.length;
    }
    // On these synthetic scenes (flat colours, sharp edges: what the learned path was trained to reconstruct at
    // 32×32) the learned path is far ahead (~44 against ~27 dB measured); the code is for photos. It must
    // still beat the best flat frame by the margin the other test uses.
    expect(code).toBeGreaterThanOrEqual(flat + FLAT_FRAME_MARGIN_DB);
    console.log(
      `e2e --image-code: reconstruct ${code.toFixed(1)} dB on scenes (learned path ${learned.toFixed(1)} dB, flat frame ${flat.toFixed(1)} dB)`,
    );
  }, 60_000);
});
