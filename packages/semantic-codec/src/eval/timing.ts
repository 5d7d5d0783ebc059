/**
 * Speed on this CPU: one 64×64 frame through the whole public path (encodeSample → packets →
 * decodeSample, the sender's and receiver's calls), and frames per second when frames are batched.
 */
import type { SemanticCodec } from '../codecTypes.js';
import type { OperatingPoint } from '../operatingPoint.js';
import { channelDecodeBatch } from './pipeline.js';

export interface TimingResult {
  readonly width: number;
  readonly height: number;
  readonly op: string;
  readonly runs: number;
  /** encodeSample + decodeSample of one frame, ms: median and 90th percentile. */
  readonly frameMsMedian: number;
  readonly frameMsP90: number;
  readonly encodeMsMedian: number;
  readonly decodeMsMedian: number;
  readonly batch: number;
  /** Frames per second through batched stages (encode, packetize, depacketize, decode), best of 3. */
  readonly batchedFps: number;
}

const quantile = (xs: readonly number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

export async function measureTiming(
  codec: SemanticCodec,
  frames: readonly Uint8Array[],
  size: number,
  op: OperatingPoint,
  runs: number,
  batch: number,
  maxPacketBytes: number,
  /** The public image path timed (encodeSample's `publicImage`). */
  publicImage: 'learned' | 'code' = 'learned',
): Promise<TimingResult> {
  const img = (i: number) => ({ data: frames[i % frames.length]!, width: size, height: size });
  const once = async (i: number) => {
    const t0 = performance.now();
    const enc = await codec.encodeSample({ image: img(i) }, op, { maxPacketBytes, publicImage });
    const t1 = performance.now();
    await codec.decodeSample({ stream: 'public', modality: 'image', packets: enc.public.packets, op });
    const t2 = performance.now();
    return [t1 - t0, t2 - t1] as const;
  };
  for (let i = 0; i < 3; i++) await once(i); // warm-up: first runs allocate
  const enc: number[] = [];
  const dec: number[] = [];
  const tot: number[] = [];
  for (let i = 0; i < runs; i++) {
    const [e, d] = await once(i);
    enc.push(e);
    dec.push(d);
    tot.push(e + d);
  }
  const images = Array.from({ length: batch }, (_, i) => img(i));
  let best = Number.POSITIVE_INFINITY;
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    if (publicImage === 'code') {
      const sym = await codec.encodeImageCode(images, op, op.rateSymbols);
      const received = images.map((_, b) => ({
        ...codec.depacketize(codec.packetize(sym, op, maxPacketBytes, { sampleIndex: b }), {
          T: sym.T,
          C: sym.C,
        }),
        gridWidth: sym.grid![1],
      }));
      await codec.decodeImageCode(received, op, op.rateSymbols);
      best = Math.min(best, performance.now() - t0);
      continue;
    }
    const pub = await codec.publicEncode(await codec.encodeImage(images));
    const sym = await codec.channelEncode(pub, op);
    const received = images.map((_, b) =>
      codec.depacketize(codec.packetize(sym, op, maxPacketBytes, { sampleIndex: b }), { T: sym.T, C: sym.C }),
    );
    const tokens = await channelDecodeBatch(codec.bundle, received, sym.T, sym.C, op, 'public');
    await codec.decodeImage({ data: tokens, batch, T: sym.T, D: pub.D, grid: pub.grid! });
    best = Math.min(best, performance.now() - t0);
  }
  return {
    width: size,
    height: size,
    op: op.name,
    runs,
    frameMsMedian: quantile(tot, 0.5),
    frameMsP90: quantile(tot, 0.9),
    encodeMsMedian: quantile(enc, 0.5),
    decodeMsMedian: quantile(dec, 0.5),
    batch,
    batchedFps: (1000 * batch) / best,
  };
}
