/** The codec API against the fake runnable bundle (test/fakeBundle.ts): exact transforms, so exact checks. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addFakeTrunk, FAKE, writeFakeBundle } from '../test/fakeBundle.js';
import { loadBundle } from './bundle.js';
import { awgn, erasure } from './channels.js';
import { createSemanticCodec } from './codec.js';
import type { SemanticCodec } from './codecTypes.js';
import { InvalidStateError, PacketError, UnsupportedError } from './errors.js';
import type { RgbImage } from './image.js';
import { psnr } from './metrics.js';
import { createOperatingPoint } from './operatingPoint.js';
import { createRng } from './rng.js';

const dir = mkdtempSync(join(tmpdir(), 'm4sc-codec-'));
let codec: SemanticCodec;
beforeAll(async () => {
  writeFakeBundle(dir);
  codec = await createSemanticCodec({ bundleDir: dir, ort, executionProviders: ['cpu'] });
});
afterAll(async () => {
  await codec.close();
  rmSync(dir, { recursive: true, force: true });
});

const W = 16;
const H = 8;
const image: RgbImage = {
  width: W,
  height: H,
  data: Float32Array.from({ length: W * H * 3 }, (_, i) => ((i * 37) % 101) / 100),
};
const q8 = createOperatingPoint({ name: 'q8-full', rateSymbols: FAKE.C, bits: 8 });

describe('createSemanticCodec', () => {
  it('rejects conflicting or missing options with TypeError', async () => {
    await expect(createSemanticCodec({})).rejects.toThrow(TypeError);
    await expect(createSemanticCodec({ bundleDir: dir })).rejects.toThrow(/ort/);
    await expect(createSemanticCodec({ bundle: codec.bundle, bundleDir: dir })).rejects.toThrow(TypeError);
    await expect(createSemanticCodec({ bundle: codec.bundle, executionProviders: ['cpu'] })).rejects.toThrow(
      TypeError,
    );
  });

  it('completes the bundle operating points (version 1, quantiser SNR, no loss)', () => {
    const op = codec.operatingPoint('q8-full');
    expect(op).toEqual({ name: 'q8-full', version: 1, rateSymbols: FAKE.C, bits: 8, snrDb: 40, lossRate: 0 });
    expect(JSON.parse(JSON.stringify(op))).toEqual(op);
    expect(() => codec.operatingPoint('nope')).toThrow(UnsupportedError);
  });
});

describe('image path', () => {
  it('encodes to an h×w token grid and decodes back exactly through an ideal channel', async () => {
    const tokens = await codec.encodeImage(image);
    expect([tokens.batch, tokens.T, tokens.D, tokens.grid]).toEqual([1, 8, FAKE.D, [2, 4]]);
    const sym = await codec.channelEncode(await codec.publicEncode(tokens), q8);
    const rx = codec.depacketize(codec.packetize(sym, q8, 1100));
    expect(rx.gridWidth).toBe(4);
    const [out] = await codec.decodeImage(await codec.channelDecode(rx, q8));
    expect([out!.width, out!.height]).toEqual([W, H]);
    expect(psnr(image.data, out!.data)).toBeGreaterThan(45);
  });

  it('accepts 8-bit images and batches of equal size', async () => {
    const bytes: RgbImage = {
      width: W,
      height: H,
      data: Uint8Array.from(image.data, (v) => Math.round(v * 255)),
    };
    const t = await codec.encodeImage([image, bytes]);
    expect(t.batch).toBe(2);
    const imgs = await codec.decodeImage(t);
    expect(psnr(imgs[0]!.data, imgs[1]!.data)).toBeGreaterThan(45);
  });

  it('encodeSample/decodeSample: AWGN 10 dB and 20 % packet loss lower PSNR but decode', async () => {
    const enc = await codec.encodeSample({ image }, q8, { maxPacketBytes: 200 });
    expect(enc.public.packets.length).toBeGreaterThan(2);
    const lossy = erasure({ lossRate: 0.2, seed: 3 }).process(enc.public.packets);
    const dec = await codec.decodeSample({ stream: 'public', modality: 'image', packets: lossy, op: q8 });
    expect(dec.kind).toBe('image');
    if (dec.kind !== 'image') return;
    expect(dec.received.received).toBe(lossy.filter(Boolean).length);
    const p = psnr(image.data, dec.image.data);
    expect(p).toBeLessThan(45);
    expect(p).toBeGreaterThan(3);
  });

  it('rejects a size that is not a multiple of the stride, NaN pixels, and bad data with TypeError', async () => {
    await expect(codec.encodeImage({ width: 10, height: 8, data: new Float32Array(240) })).rejects.toThrow(
      /stride/,
    );
    const nan = image.data.slice();
    nan[3] = Number.NaN;
    await expect(codec.encodeImage({ ...image, data: nan })).rejects.toThrow(TypeError);
    await expect(codec.encodeImage({ ...image, data: new Float32Array(5) })).rejects.toThrow(TypeError);
    await expect(codec.encodeImage([])).rejects.toThrow(TypeError);
  });
});

describe('text path', () => {
  it('transmits text through the public stream (exact with no noise)', async () => {
    const enc = await codec.encodeSample({ text: 'Hello, world!' }, q8);
    expect(enc.modality).toBe('text');
    expect(enc.public.T).toBe(5); // hello , world ! <eos>
    const dec = await codec.decodeSample({
      stream: 'public',
      modality: 'text',
      packets: enc.public.packets,
      op: q8,
    });
    expect(dec.kind === 'text' && dec.text.text).toBe('hello, world!');
  });

  it('batches texts of different lengths with <pad>', async () => {
    const t = await codec.encodeText(['red circle', 'hello world !']);
    expect([t.batch, t.T]).toEqual([2, 4]);
    const out = await codec.decodeText(t);
    expect(out.map((o) => o.text)).toEqual(['red circle', 'hello world!']);
  });

  it('rejects empty text with TypeError', async () => {
    await expect(codec.encodeText('   ')).rejects.toThrow(TypeError);
    await expect(codec.encodeSample({ text: '' }, q8)).rejects.toThrow(TypeError);
  });
});

describe('private stream (instructions)', () => {
  it('encodes each distinct instruction once, in one batch, and decodes per receiver', async () => {
    const instructions = [
      { task: 'classify' },
      { task: 'answer', query: 'what colour is the circle?' },
      { task: 'classify' },
      { task: 'reconstruct' },
    ];
    const enc = await codec.encodeSample({ image }, q8, { instructions });
    expect(enc.private.map((p) => p.key)).toEqual([
      'classify/image/label/',
      'answer/image/text/what colour is the circle ?',
    ]);
    for (const p of enc.private) {
      expect(p.T).toBe(FAKE.P);
      const dec = await codec.decodeSample({
        stream: 'private',
        instruction: p.instruction!,
        packets: p.packets,
        op: q8,
      });
      // The fake task decoder echoes the instruction's <task> <mod> <out> tokens.
      const i = p.instruction!;
      expect(dec.kind === 'text' && dec.text.words).toEqual([
        `<task:${i.task}>`,
        `<mod:${i.modality}>`,
        `<out:${i.output}>`,
      ]);
    }
  });

  it('privateEncode shares one public sample across instructions; decodeTask batches', async () => {
    const pub = await codec.publicEncode(await codec.encodeImage(image));
    const instr = [{ task: 'caption' }, { task: 'classify' }];
    const priv = await codec.privateEncode(pub, instr);
    expect([priv.batch, priv.T, priv.D]).toEqual([2, FAKE.P, FAKE.D]);
    const out = await codec.decodeTask(priv, instr);
    expect(out.map((o) => o.words[0])).toEqual(['<task:caption>', '<task:classify>']);
  });

  it('privateSource: the public tokens without a trunk; the trunk’s tokens with one', async () => {
    const pub = await codec.publicEncode(await codec.encodeImage(image));
    expect((await codec.privateSource(image)).data).toEqual(pub.data);
    expect(await codec.privateSource(image, pub)).toBe(pub); // given, not recomputed
    const tdir = join(dir, 'trunk');
    writeFakeBundle(tdir, addFakeTrunk());
    const withTrunk = await createSemanticCodec({ bundleDir: tdir, ort });
    try {
      const src = await withTrunk.privateSource([image, image], pub);
      expect([src.batch, src.T, src.D, src.grid]).toEqual([2, pub.T, pub.D, pub.grid]);
      expect(Array.from(src.data.subarray(0, pub.data.length))).toEqual(Array.from(pub.data, (v) => 2 * v));
      await expect(withTrunk.privateSource({ ...image, width: 6 })).rejects.toThrow(TypeError);
    } finally {
      await withTrunk.close();
    }
  });

  it('unknown task → UnsupportedError; modality mismatch → UnsupportedError; bad instruction → TypeError', async () => {
    await expect(codec.encodeSample({ image }, q8, { instructions: [{ task: 'dance' }] })).rejects.toThrow(
      UnsupportedError,
    );
    await expect(
      codec.encodeSample({ text: 'hello' }, q8, { instructions: [{ task: 'classify' }] }),
    ).rejects.toThrow(UnsupportedError);
    await expect(codec.encodeSample({ image }, q8, { instructions: [{ task: 'answer' }] })).rejects.toThrow(
      TypeError,
    );
  });
});

describe('bad input on the receive side', () => {
  it('NaN symbols → TypeError; a non-binary mask → TypeError', async () => {
    const T = 2;
    const C = FAKE.C;
    const symbols = new Float32Array(T * C);
    symbols[1] = Number.NaN;
    const mask = new Float32Array(T * C).fill(1);
    await expect(codec.channelDecode({ symbols, mask, T, C }, q8)).rejects.toThrow(TypeError);
    symbols[1] = 0;
    mask[0] = 0.5;
    await expect(codec.channelDecode({ symbols, mask, T, C }, q8)).rejects.toThrow(TypeError);
  });

  it('a truncated packet is skipped and reported; all packets bad → PacketError', async () => {
    const enc = await codec.encodeSample({ image }, q8, { maxPacketBytes: 200 });
    const pkts = enc.public.packets.map((p, i) => (i === 0 ? p.subarray(0, 30) : p));
    const dec = await codec.decodeSample({ stream: 'public', modality: 'image', packets: pkts, op: q8 });
    expect(dec.received.errors.map((e) => e.reason)).toEqual(['truncated']);
    await expect(
      codec.decodeSample({ stream: 'public', modality: 'image', packets: [new Uint8Array(3)], op: q8 }),
    ).rejects.toThrow(PacketError);
  });

  it('survives any byte string: garbage packets give PacketError or a decode, nothing else', async () => {
    const enc = await codec.encodeSample({ image }, q8, { maxPacketBytes: 200 });
    const rng = createRng(5);
    for (let k = 0; k < 40; k++) {
      const pkts = enc.public.packets.map((p) => {
        const q = p.slice();
        const flips = Math.floor(rng.next() * 3);
        for (let f = 0; f < flips; f++) q[Math.floor(rng.next() * q.length)] = Math.floor(rng.next() * 256);
        return rng.next() < 0.2 ? q.subarray(0, Math.floor(rng.next() * q.length)) : q;
      });
      try {
        const dec = await codec.decodeSample({ stream: 'public', modality: 'image', packets: pkts, op: q8 });
        expect(dec.kind).toBe('image');
      } catch (e) {
        expect(e).toBeInstanceOf(PacketError);
      }
    }
  });

  it('a private sample with every packet lost still decodes (all-erased mask)', async () => {
    const dec = await codec.decodeSample({
      stream: 'private',
      instruction: { task: 'classify' },
      packets: [undefined],
      op: q8,
    });
    expect(dec.kind).toBe('text');
    expect(dec.received.received).toBe(0);
  });

  it('an invalid operating point → TypeError', async () => {
    await expect(codec.encodeSample({ image }, { ...q8, rateSymbols: 999 })).rejects.toThrow(TypeError);
    await expect(codec.encodeSample({ image }, { ...q8, bits: 0 })).rejects.toThrow(TypeError);
  });
});

describe('batched receive', () => {
  it('channelDecode takes a batch of received samples in one run', async () => {
    const pub = await codec.publicEncode(await codec.encodeImage([image, image]));
    const sym = await codec.channelEncode(pub, q8);
    const n = sym.T * sym.C;
    const one = (b: number) => ({
      symbols: sym.data.subarray(b * n, (b + 1) * n),
      mask: new Float32Array(n).fill(1),
      T: sym.T,
      C: sym.C,
      gridWidth: 4,
    });
    const t = await codec.channelDecode([one(0), one(1)], q8);
    expect([t.batch, t.grid]).toEqual([2, [2, 4]]);
    expect((await codec.decodeImage(t)).length).toBe(2);
    await expect(codec.channelDecode([one(0), { ...one(1), T: 4 }], q8)).rejects.toThrow(TypeError);
  });
});

describe('AWGN through the codec', () => {
  it('noise lowers PSNR monotonically with SNR (fixed seed)', async () => {
    const tokens = await codec.publicEncode(await codec.encodeImage(image));
    const sym = await codec.channelEncode(tokens, q8);
    const run = async (snrDb: number) => {
      const y = awgn({ snrDb, seed: 1 }).process(sym.data);
      const t = await codec.channelDecode(
        { symbols: y, mask: new Float32Array(y.length).fill(1), T: sym.T, C: sym.C, gridWidth: 4 },
        q8,
      );
      return psnr(image.data, (await codec.decodeImage(t))[0]!.data);
    };
    const [a, b] = [await run(20), await run(5)];
    expect(a).toBeGreaterThan(b);
  });
});

describe('close', () => {
  it('is idempotent, closes an owned bundle, and later calls throw InvalidStateError', async () => {
    const c = await createSemanticCodec({ bundleDir: dir, ort });
    await c.close();
    await c.close();
    expect(c.bundle.closed).toBe(true);
    await expect(c.encodeText('hello')).rejects.toThrow(InvalidStateError);
  });

  it('leaves a borrowed bundle open', async () => {
    const b = await loadBundle(dir, { ort });
    const c = await createSemanticCodec({ bundle: b });
    await c.close();
    expect(b.closed).toBe(false);
    await b.close();
  });
});

describe('node entry', () => {
  it('createNodeSemanticCodec injects onnxruntime-node', async () => {
    const { createNodeSemanticCodec } = await import('./node.js');
    const c = await createNodeSemanticCodec({ bundleDir: dir });
    expect((await c.encodeText('hello')).T).toBe(2);
    await c.close();
  });
});

describe('fixed batch dimension', () => {
  it('runs in chunks when the manifest fixes B = 1, with the same results', async () => {
    const d1 = join(dir, 'b1');
    writeFakeBundle(d1, (m) => {
      const st = (m.stages as Record<string, { inputs: Record<string, { shape: unknown[] }> }>)
        .private_encoder!;
      for (const t of Object.values(st.inputs)) t.shape[0] = 1;
    });
    const c1 = await createSemanticCodec({ bundleDir: d1, ort });
    const pub = await c1.publicEncode(await c1.encodeImage(image));
    const instr = [{ task: 'caption' }, { task: 'classify' }, { task: 'answer', query: 'what ?' }];
    const a = await c1.privateEncode(pub, instr);
    const b = await codec.privateEncode(pub, instr);
    expect(a.batch).toBe(3);
    expect(a.data).toEqual(b.data);
    await c1.close();
  });
});
