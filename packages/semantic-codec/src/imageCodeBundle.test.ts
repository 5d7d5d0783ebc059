/**
 * The default bundle's public image code (streams.image) through the codec: encodeSample/decodeSample, the
 * simulated channel, rate layers, packet loss, bad input, and the loader's checks of the code's files.
 * Floors are relative (against the bundle's own learned token path, against lower SNRs), so they survive a
 * refit.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleRefusal } from '../test/refusal.js';
import { loadBundle } from './bundle.js';
import { awgn } from './channels.js';
import { createSemanticCodec } from './codec.js';
import type { SemanticCodec } from './codecTypes.js';
import type { BundleError } from './errors.js';
import type { RgbImage } from './image.js';
import { psnr } from './metrics.js';
import { createRng } from './rng.js';

const BUNDLE =
  process.env.M4SC_BUNDLE_DIR ?? fileURLToPath(new URL('../../../models/default', import.meta.url));

let codec: SemanticCodec;
const root = mkdtempSync(join(tmpdir(), 'm4sc-imagecode-'));

/** A smooth, textured 64×64 test frame (gradients and a few edges), deterministic. */
function frame(seed: number, size = 64): RgbImage {
  const r = createRng(seed);
  const [a, b, c] = [r.next(), r.next(), r.next()];
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const edge = (x + 2 * y) % 23 < 11 ? 0.15 : 0;
      for (let ch = 0; ch < 3; ch++) {
        const v = 0.5 + 0.3 * Math.sin((x * (a + ch * 0.1) + y * b) / 6) * Math.cos(y * c * 0.2) + edge;
        data[(y * size + x) * 3 + ch] = Math.round(255 * Math.min(1, Math.max(0, v)));
      }
    }
  }
  return { data, width: size, height: size };
}
const ref = (im: RgbImage) => Float32Array.from(im.data, (v) => v / 255);

beforeAll(async () => {
  codec = await createSemanticCodec({ bundleDir: BUNDLE, ort });
}, 60_000);
afterAll(async () => {
  await codec?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('the public image code of the default bundle', () => {
  it("is what image samples use with publicImage 'code', and beats the learned token path at the same point", async () => {
    expect(codec.hasImageCode).toBe(true);
    const op = codec.operatingPoint('q8-full');
    const im = frame(1);
    // The default stays the learned path: its packets carry no gain, and decodeSample takes that path.
    const learnedEnc = await codec.encodeSample({ image: im }, op);
    expect(codec.depacketize(learnedEnc.public.packets).gain).toBeUndefined();
    const viaLearned = await codec.decodeSample({
      stream: 'public',
      modality: 'image',
      packets: learnedEnc.public.packets,
      op,
    });
    const enc = await codec.encodeSample({ image: im }, op, { publicImage: 'code' });
    expect(enc.grid).toEqual([16, 16]);
    const out = await codec.decodeSample({
      stream: 'public',
      modality: 'image',
      packets: enc.public.packets,
      op,
    });
    if (out.kind !== 'image') throw new Error('not an image');
    expect(out.received.gain).toBeGreaterThan(0);
    const code = psnr(ref(im), out.image.data);
    // The learned path: the bundle's token stages at the same operating point.
    const pub = await codec.publicEncode(await codec.encodeImage(im));
    const sym = await codec.channelEncode(pub, op);
    const rx = codec.depacketize(codec.packetize(sym, op));
    const [learned] = await codec.decodeImage(await codec.channelDecode({ ...rx, gridWidth: 16 }, op));
    expect(code).toBeGreaterThan(psnr(ref(im), learned!.data));
    expect(psnr(ref(im), (viaLearned as { image: RgbImage }).image.data)).toBeCloseTo(
      psnr(ref(im), learned!.data),
      6,
    );
    expect(code).toBeGreaterThan(28);
  });

  it('falls smoothly with the SNR of a simulated channel, and a lower rate costs quality', async () => {
    const ims = [frame(2), frame(3), frame(4)];
    const at = async (snrDb: number, rate: number) => {
      const state = { snrDb, lossRate: 0 };
      const sym = await codec.encodeImageCode(ims, state, rate);
      const n = sym.T * sym.C;
      const ch = awgn({ snrDb, seed: 5 });
      const rx = ims.map((_, b) => {
        const mask = new Float32Array(n).fill(1, 0, rate * sym.T);
        return {
          symbols: ch.process(sym.data.subarray(b * n, (b + 1) * n)),
          mask,
          T: sym.T,
          C: sym.C,
          gridWidth: sym.grid![1],
          gain: sym.gain![b]!,
        };
      });
      const out = await codec.decodeImageCode(rx, state, rate);
      return out.reduce((s, o, b) => s + psnr(ref(ims[b]!), o.data), 0) / ims.length;
    };
    const curve = [];
    for (const snr of [0, 5, 10, 20]) curve.push(await at(snr, 16));
    for (let i = 1; i < curve.length; i++) {
      expect(curve[i]!).toBeGreaterThan(curve[i - 1]!);
      expect(curve[i]! - curve[i - 1]!).toBeLessThan(12); // no cliff between the points
    }
    expect(await at(10, 4)).toBeLessThan(curve[2]!);
  });

  it('decodes any prefix of public layers, and a lost packet costs less than a layer', async () => {
    const op = codec.operatingPoint('q8-full');
    const im = frame(6);
    const enc = await codec.encodeSample({ image: im }, op, {
      publicLayers: [4, 8, 16],
      minPackets: 4,
      publicImage: 'code',
    });
    const layers = enc.publicLayers!;
    const dec = async (ls: typeof layers) => {
      const out = await codec.decodeSample({
        stream: 'public',
        modality: 'image',
        layers: ls.map((l) => ({ start: l.start, packets: l.packets })),
        op,
        grid: [16, 16],
      });
      return psnr(ref(im), (out as { image: RgbImage }).image.data);
    };
    const base = await dec(layers.slice(0, 1));
    const two = await dec(layers.slice(0, 2));
    const all = await dec(layers);
    expect(two).toBeGreaterThan(base);
    expect(all).toBeGreaterThan(two);
    const top = layers[2]!;
    const lossy = await dec([
      layers[0]!,
      layers[1]!,
      { ...top, packets: top.packets.map((p, i) => (i === 0 ? undefined : p)) as never },
    ]);
    expect(lossy).toBeLessThan(all);
    expect(lossy).toBeGreaterThan(two);
    // Nothing at all arrived: the code's mean image, not an error.
    const none = await codec.decodeSample({
      stream: 'public',
      modality: 'image',
      packets: enc.public.packets.map(() => undefined),
      op,
      grid: [16, 16],
    });
    expect(none.kind).toBe('image');
  });

  it('carries parity packets on a lossy operating point, so a lost data packet costs nothing; none on a clean one', async () => {
    const clean = codec.operatingPoint('q8-full');
    const lossy = { ...clean, lossRate: 0.2 };
    const im = frame(7);
    const quality = async (op: typeof clean, packets: (Uint8Array | undefined)[]) => {
      const out = await codec.decodeSample({
        stream: 'public',
        modality: 'image',
        packets: packets as never,
        op,
        grid: [16, 16],
      });
      return { psnr: psnr(ref(im), (out as { image: RgbImage }).image.data), received: out.received };
    };
    const plain = (await codec.encodeSample({ image: im }, clean, { publicImage: 'code', minPackets: 4 }))
      .public.packets;
    expect(plain.every((p) => (p[3]! & 0x04) === 0)).toBe(true);
    const enc = await codec.encodeSample({ image: im }, lossy, { publicImage: 'code', minPackets: 4 });
    const pkts = enc.public.packets;
    const parity = pkts.filter((p) => (p[3]! & 0x04) !== 0).length;
    expect(parity).toBeGreaterThan(0);
    const whole = await quality(lossy, pkts);
    // Lose as many data packets as there are parity packets: all rebuilt.
    const repaired = await quality(
      lossy,
      pkts.map((p, i) => (i < parity ? undefined : p)),
    );
    expect(repaired.received.recovered).toBe(parity);
    expect(repaired.psnr).toBeCloseTo(whole.psnr, 6);
    // Without the parity packets the same loss costs quality.
    const unrepaired = await quality(
      lossy,
      pkts.map((p, i) => (i < parity || i >= pkts.length - parity ? undefined : p)),
    );
    expect(unrepaired.received.recovered).toBe(0);
    expect(unrepaired.psnr).toBeLessThan(whole.psnr - 1);
    // The sender sizes them for its lossiest receiver's loss, whatever the point's conditioning.
    const forWorst = await codec.encodeSample({ image: im }, clean, {
      publicImage: 'code',
      minPackets: 4,
      publicLossRate: 0.2,
    });
    expect(forWorst.public.packets.filter((p) => (p[3]! & 0x04) !== 0).length).toBe(parity);
    await expect(
      codec.encodeSample({ image: im }, clean, { publicImage: 'code', publicLossRate: 2 }),
    ).rejects.toThrow(/publicLossRate/);
    // The learned token path carries none (its coder was trained through erasures).
    const learned = await codec.encodeSample({ image: im }, lossy, { minPackets: 4 });
    expect(learned.public.packets.every((p) => (p[3]! & 0x04) === 0)).toBe(true);
  });

  it('refuses bad input with typed errors and keeps working', async () => {
    const op = codec.operatingPoint('q8-full');
    await expect(
      codec.encodeImageCode({ data: new Uint8Array(40 * 40 * 3), width: 40, height: 40 }, op, 16),
    ).rejects.toThrow(TypeError);
    await expect(codec.encodeImageCode(frame(1), op, 17)).rejects.toThrow(/rateSymbols/);
    await expect(
      codec.encodeSample({ image: frame(1) }, op, { publicImage: 'jpeg' as never }),
    ).rejects.toThrow(/publicImage/);
    const sym = await codec.encodeImageCode(frame(1), op, 16);
    const rx = {
      symbols: sym.data,
      mask: new Float32Array(sym.data.length).fill(1),
      T: sym.T,
      C: sym.C,
      gridWidth: 16,
    };
    await expect(codec.decodeImageCode(rx, op, 16)).rejects.toThrow(/no gain/);
    const nan = sym.data.slice();
    nan[3] = Number.NaN;
    await expect(codec.decodeImageCode({ ...rx, symbols: nan, gain: 1 }, op, 16)).rejects.toThrow(
      /not finite/,
    );
    await expect(codec.decodeImageCode({ ...rx, gridWidth: 6, gain: 1 }, op, 16)).rejects.toThrow(TypeError);
    const [ok] = await codec.decodeImageCode({ ...rx, gain: sym.gain![0]! }, op, 16);
    expect(ok!.width).toBe(64);
  });
});

describe('loading a bundle with a public image code', () => {
  // biome-ignore lint/suspicious/noExplicitAny: each test edits the parsed manifest where it likes
  const copy = (mutate: (dir: string, manifest: Record<string, any>) => void) => {
    const dir = mkdtempSync(join(root, 'b-'));
    cpSync(BUNDLE, dir, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    mutate(dir, manifest);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    return dir;
  };
  const refusal = (dir: string): Promise<BundleError> => bundleRefusal(dir, ort);
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

  it('loads the analysis for a sender and the synthesis for a receiver, the code for both', async () => {
    const s = await loadBundle(BUNDLE, { ort, role: 'sender' });
    const r = await loadBundle(BUNDLE, { ort, role: 'receiver' });
    try {
      expect(s.loaded).toContain('image.analysis');
      expect(s.loaded).not.toContain('image.synthesis');
      expect(r.loaded).toContain('image.synthesis');
      expect(r.loaded).not.toContain('image.analysis');
      expect(s.imageStream()!.code.K).toBe(r.imageStream()!.code.K);
      expect(() => r.imageStream()!.analysis).toThrow(/sender/);
    } finally {
      await s.close();
      await r.close();
    }
  }, 60_000);

  it('refuses a code file that fails its checksum, is cut short, or holds a matrix that is not orthogonal', async () => {
    const c1 = await refusal(
      copy((dir) => {
        const p = join(dir, 'image_code.bin');
        const b = readFileSync(p);
        b[100] = b[100]! ^ 1;
        writeFileSync(p, b);
      }),
    );
    expect([c1.reason, c1.file]).toEqual(['checksum', 'image_code.bin']);
    const c2 = await refusal(
      copy((dir, m) => {
        const b = readFileSync(join(dir, 'image_code.bin')).subarray(8);
        writeFileSync(join(dir, 'image_code.bin'), b);
        m.streams.image.code.sha256 = sha(b);
      }),
    );
    expect([c2.reason, c2.file]).toEqual(['corrupt', 'image_code.bin']);
    const c3 = await refusal(
      copy((dir, m) => {
        const b = readFileSync(join(dir, 'image_code.bin'));
        const K = m.streams.image.code.coefficients;
        b.writeFloatLE(b.readFloatLE(4 * (K + 1)) + 0.2, 4 * (K + 1));
        writeFileSync(join(dir, 'image_code.bin'), b);
        m.streams.image.code.sha256 = sha(b);
      }),
    );
    expect(c3.message).toMatch(/not orthogonal/);
  }, 60_000);

  it('refuses a code whose coefficients do not fit C·(block/stride)², and stages with the wrong tensors', async () => {
    const e1 = await refusal(
      copy((_, m) => {
        m.streams.image.code.block = 8;
      }),
    );
    expect(e1.reason).toBe('manifest');
    const e2 = await refusal(
      copy((_, m) => {
        m.streams.image.synthesis.inputs = {
          tokens: m.streams.image.synthesis.inputs.coefs,
          grid: m.streams.image.synthesis.inputs.grid,
        };
      }),
    );
    expect(e2.message).toMatch(/synthesis/);
  }, 60_000);
});
