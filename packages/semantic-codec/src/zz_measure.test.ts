import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { it } from 'vitest';
import { awgn } from './channels.js';
import { createSemanticCodec } from './codec.js';
import { psnr, ssim } from './metrics.js';

const DIR = process.env.M4SC_BUNDLE_DIR!;
it('measure', async () => {
  const codec = await createSemanticCodec({ bundleDir: DIR, ort });
  const sc = JSON.parse(readFileSync(`${DIR}/testdata/scenes.json`, 'utf8'));
  const imgs = sc.scenes.slice(0, 16).map((s: { rgb: string }) => ({
    width: 32,
    height: 32,
    data: new Uint8Array(Buffer.from(s.rgb, 'base64')),
  }));
  for (const snr of [20, 10, 0]) {
    let ps = 0;
    let ss = 0;
    for (const im of imgs) {
      const pub = await codec.publicEncode(await codec.encodeImage(im));
      const sym = await codec.channelEncode(pub, { snrDb: snr, lossRate: 0 });
      const y = awgn({ snrDb: snr, seed: 1 }).process(sym.data);
      const t = await codec.channelDecode(
        { symbols: y, mask: new Float32Array(y.length).fill(1), T: sym.T, C: sym.C, gridWidth: 8 },
        { snrDb: snr, lossRate: 0 },
      );
      const [out] = await codec.decodeImage(t);
      const ref = Float32Array.from(im.data, (v: number) => v / 255);
      ps += psnr(ref, out!.data);
      ss += ssim({ ...im, data: ref }, out!);
    }
    console.log('snr', snr, 'psnr', (ps / imgs.length).toFixed(2), 'ssim', (ss / imgs.length).toFixed(3));
  }
  for (const opn of ['q8-full', 'q4-half', 'q4-quarter']) {
    const op = codec.operatingPoint(opn);
    let ps = 0;
    for (const im of imgs) {
      const enc = await codec.encodeSample({ image: im }, op);
      const d = await codec.decodeSample({
        stream: 'public',
        modality: 'image',
        packets: enc.public.packets,
        op,
      });
      if (d.kind === 'image')
        ps += psnr(
          Float32Array.from(im.data, (v: number) => v / 255),
          d.image.data,
        );
    }
    console.log(opn, 'packets psnr', (ps / imgs.length).toFixed(2));
  }
  let hit = 0;
  let n = 0;
  let ch = 0;
  const op = codec.operatingPoint('q8-full');
  for (const s of sc.scenes.slice(0, 16)) {
    const im = { width: 32, height: 32, data: new Uint8Array(Buffer.from(s.rgb, 'base64')) };
    const instrs = [{ task: 'caption' }, ...s.qa.map((q: { q: string }) => ({ task: 'answer', query: q.q }))];
    const enc = await codec.encodeSample({ image: im }, op, { instructions: instrs });
    for (const p of enc.private) {
      const d = await codec.decodeSample({
        stream: 'private',
        instruction: p.instruction!,
        packets: p.packets,
        op,
      });
      if (d.kind !== 'text') continue;
      if (p.instruction!.task === 'caption') {
        if (d.text.words.join(' ') === s.caption) ch++;
        continue;
      }
      const want = s.qa.find((q: { q: string }) => q.q === p.instruction!.query.join(' '))?.a;
      n++;
      if (d.text.words.join(' ') === want) hit++;
    }
  }
  console.log('answer acc', (hit / n).toFixed(3), n, 'caption exact', ch / 16);
  await codec.close();
}, 120000);
