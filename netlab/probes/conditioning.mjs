// How much the channel coder's conditioning matters: reconstruction PSNR when the coder is conditioned on a state
// other than the channel's. Two tables on the eval's held-out crops (its suites and channels):
// - packet loss p (the eval's packet path: loss operating point, real quantiser, ≥ 8 packets, independent losses)
//   against the loss rate c the coder is conditioned on, over the adaptation's grid;
// - AWGN at s dB (full rate, no quantiser) against the SNR the coder is conditioned on.
// One seed per row: every column of a row sees the same losses / noise. Run after `npx tsc -b`:
//   node netlab/probes/conditioning.mjs    (N=256 crops; LOSS=0,0.05,… COND=0,0.05,… SNR=0,5,… CSNR=0,5,…)
import { createNodeSemanticCodec } from '@m4sc/semantic-codec/node';
import { DEFAULT_BUNDLE_DIR } from '@m4sc/sender';
import { loadHeldOutPhotos, photoCrops } from '../../packages/semantic-codec/dist/eval/photos.js';
import { reconstructSuite } from '../../packages/semantic-codec/dist/eval/suites.js';

const list = (v, d) => (v ? v.split(',').map(Number) : d);
const N = Number(process.env.N ?? 256);
const LOSS = list(process.env.LOSS, [0, 0.05, 0.1, 0.2, 0.3, 0.4]);
const COND = list(process.env.COND, [0, 0.05, 0.1, 0.2, 0.3]);
const SNR = list(process.env.SNR, [0, 5, 10, 20]);
const CSNR = list(process.env.CSNR, [0, 5, 10, 20]);
const codec = await createNodeSemanticCodec({ bundleDir: DEFAULT_BUNDLE_DIR });
const C = codec.manifest.dims.C;
const op = codec.operatingPoints.find((p) => p.bits === 8 && p.rateSymbols === C) ?? codec.operatingPoints[0];
const crops = photoCrops(await loadHeldOutPhotos(), N, { size: 32 });
const suite = await reconstructSuite(codec, crops, 32, { baseline: false });

async function table(title, rows, cols, condition, label) {
  console.log(`\n${title}`);
  console.log(`| ${label} | ${cols.map((c) => `cond ${c}`).join(' | ')} | best |`);
  console.log(`| --- | ${cols.map(() => '---').join(' | ')} | --- |`);
  for (const [i, x] of rows.entries()) {
    const row = [];
    for (const c of cols) row.push((await suite.evaluate(condition(x, c), 1000 + i)).psnr);
    const best = cols[row.indexOf(Math.max(...row))];
    console.log(`| ${x} | ${row.map((v) => v.toFixed(2)).join(' | ')} | ${best} |`);
  }
}

console.log(`reconstruct PSNR dB, ${crops.length} held-out crops`);
await table(
  `packet loss, op ${op.name}: rows the path's loss, columns the loss rate the coder is conditioned on`,
  LOSS,
  COND,
  (lossRate, c) => ({
    path: 'packets',
    op,
    lossRate,
    conditionLossRate: c,
    minPackets: 8,
    maxPacketBytes: 1100,
  }),
  'loss',
);
await table(
  'AWGN, full rate: rows the channel SNR (dB), columns the SNR the coder is conditioned on',
  SNR,
  CSNR,
  (snrDb, c) => ({ path: 'symbols', channel: 'awgn', snrDb, conditionSnrDb: c, rateSymbols: C }),
  'SNR',
);
await codec.close();
