// Reconstruction PSNR under packet loss p when the coder is conditioned on loss c, for the adaptation's grid:
// whether conditioning on the grid point at, below or above the measured loss serves best. The eval's packet
// path (channelEncode at the loss operating point, the real quantiser, packetize over ≥ 8 packets, independent
// losses, depacketize, channel decoder, image decoder) on the eval's held-out crops; one seed per loss rate, the
// same losses for every c. Run after `npx tsc -b`:
//   node netlab/probes/loss-conditioning.mjs            (N=256 crops; LOSS=0.05,0.1,...; COND=0,0.05,...)
import { createNodeSemanticCodec } from '@m4sc/semantic-codec/node';
import { DEFAULT_BUNDLE_DIR } from '@m4sc/sender';
import { loadHeldOutPhotos, photoCrops } from '../../packages/semantic-codec/dist/eval/photos.js';
import { reconstructSuite } from '../../packages/semantic-codec/dist/eval/suites.js';

const list = (v, d) => (v ? v.split(',').map(Number) : d);
const N = Number(process.env.N ?? 256);
const LOSS = list(process.env.LOSS, [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4]);
const COND = list(process.env.COND, [0, 0.05, 0.1, 0.2, 0.3]);
const codec = await createNodeSemanticCodec({ bundleDir: DEFAULT_BUNDLE_DIR });
const C = codec.manifest.dims.C;
const op = codec.operatingPoints.find((p) => p.bits === 8 && p.rateSymbols === C) ?? codec.operatingPoints[0];
const crops = photoCrops(await loadHeldOutPhotos(), N, { size: 32 });
const suite = await reconstructSuite(codec, crops, 32, { baseline: false });
console.log(
  `reconstruct PSNR dB, ${crops.length} held-out crops, op ${op.name}; rows: path loss, columns: conditioning`,
);
console.log(`| loss | ${COND.map((c) => `c=${c}`).join(' | ')} | best |`);
console.log(`| --- | ${COND.map(() => '---').join(' | ')} | --- |`);
for (const [i, lossRate] of LOSS.entries()) {
  const row = [];
  for (const c of COND) {
    const m = await suite.evaluate(
      { path: 'packets', op, lossRate, conditionLossRate: c, minPackets: 8, maxPacketBytes: 1100 },
      1000 + i,
    );
    row.push(m.psnr);
  }
  const best = COND[row.indexOf(Math.max(...row))];
  console.log(`| ${lossRate} | ${row.map((v) => v.toFixed(2)).join(' | ')} | ${best} |`);
}
await codec.close();
