// Issue 4's quality target in the network lab: at 20% random packet loss, reconstruction PSNR ≥ loss-free PSNR
// − 3 dB and task accuracy ≥ 90% of loss-free. One run, one sender, the same scenes: a clean and a 20%-loss link,
// each with a reconstruct and an answer receiver (scenario 20-percent-loss, 64×64 at 15 fps). Root only; ~25 s.
import { afterAll, describe, expect, it } from 'vitest';
import { built, cleanupWork, isRoot, lab, type ResultLine } from './netlabRun.js';

afterAll(cleanupWork);

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Quality of the samples both receivers decoded (same scenes), each receiver's mean, and how many. */
function paired(a: ResultLine[], b: ResultLine[]) {
  const qb = new Map(b.filter((l) => l.q !== undefined).map((l) => [l.seq, l.q!]));
  const both = a.filter((l) => l.q !== undefined && qb.has(l.seq));
  return { n: both.length, a: mean(both.map((l) => l.q!)), b: mean(both.map((l) => qb.get(l.seq)!)) };
}

describe.skipIf(!isRoot)('network lab: quality under 20% loss', () => {
  it('at 20% random loss, PSNR ≥ loss-free − 3 dB and answer accuracy ≥ 90% of loss-free (same run, same scenes)', () => {
    expect(built, 'run `npx tsc -b` first').toBe(true);
    const run = lab('20-percent-loss');
    const rx = (n: string) => run.rx(n).total;
    const recon = paired(run.results('recon-loss20'), run.results('recon-clean'));
    const answer = paired(run.results('answer-loss20'), run.results('answer-clean'));
    console.log(
      `20% loss (64×64, 15 fps): reconstruct ${rx('recon-loss20').quality} dB (${rx('recon-loss20').results}/${rx('recon-loss20').expected}, ` +
        `packet loss ${rx('recon-loss20').lossRate}) vs clean ${rx('recon-clean').quality} dB (${rx('recon-clean').results}); ` +
        `paired over ${recon.n} frames ${recon.a.toFixed(2)} vs ${recon.b.toFixed(2)} dB | answer accuracy ${rx('answer-loss20').quality} ` +
        `(${rx('answer-loss20').results}) vs clean ${rx('answer-clean').quality} (${rx('answer-clean').results}); paired over ${answer.n} ` +
        `${answer.a.toFixed(3)} vs ${answer.b.toFixed(3)}`,
    );
    // The impairment really acted: the reconstruct receiver saw packets missing from the samples that reached it
    // (wholly lost samples are not seen, so this reads below 20%: 9.8–18.5% measured; ≥ 5% asserted), the clean
    // one none.
    expect(rx('recon-loss20').lossRate!).toBeGreaterThanOrEqual(0.05);
    expect(rx('recon-clean').lossRate ?? 0).toBeLessThan(0.01);
    // Loss lowers quality, never stops the stream: each lossy receiver decodes ≥ 1 frame in 10 (liveness, as in
    // the mixed room: the host's two shared cores run one 64×64 encoder and four decoders; 47–125 of ~230–250
    // measured, the low end at load ~18).
    for (const n of ['recon-loss20', 'answer-loss20'])
      expect(rx(n).results, n).toBeGreaterThan(rx(n).expected / 10);
    // Compared over the samples both decoded, so both means are over the same scenes (the answer's accuracy over
    // ~100 different scenes varies by ±5 points between runs on its own). The margins, no more.
    expect(recon.n).toBeGreaterThanOrEqual(30);
    expect(recon.a).toBeGreaterThanOrEqual(recon.b - 3);
    expect(answer.n).toBeGreaterThanOrEqual(30);
    expect(answer.a).toBeGreaterThanOrEqual(0.9 * answer.b);
    // The unpaired means (every decoded frame of each receiver), as the lab reports them: PSNR target too.
    expect(rx('recon-loss20').quality!).toBeGreaterThanOrEqual(rx('recon-clean').quality! - 3);
  }, 120_000);
});
