import {
  type DecodedSample,
  fromWireOperatingPoint,
  type HelloMessage,
  type SemanticCodec,
  type ServeMessage,
} from '@m4sc/semantic-codec';
import type { ReassembledSample } from '@m4sc/transport';
import { rawFrameFromSample } from './rawFrame.js';
import type { ReceiverInstruction, ReceiverResult } from './receiverTypes.js';

/** Public streams: `public` (unlayered, or its base layer) and `public.<k>` (enhancement layer k). */
export const isPublicStream = (stream: string): boolean =>
  stream === 'public' || stream.startsWith('public.');

/** A layered public sample's place: layer `k` of `n` sent to this receiver (header fields ly, ln). */
export function layerOf(sample: ReassembledSample): { k: number; n: number } | undefined {
  if (!isPublicStream(sample.stream)) return undefined;
  const o = sample.op as { ly?: unknown; ln?: unknown; ls?: unknown };
  const k = o.ly;
  const n = o.ln;
  if (!Number.isInteger(k) || !Number.isInteger(n) || !Number.isInteger(o.ls)) return undefined;
  return (k as number) >= 0 && (n as number) >= 1 && (n as number) <= 16
    ? { k: k as number, n: n as number }
    : undefined;
}

function toRgb8(img: { data: Float32Array | Uint8Array | Uint8ClampedArray }): Uint8Array {
  if (img.data instanceof Uint8Array) return img.data;
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.max(0, Math.min(255, Math.round(img.data[i]! * 255)));
  return out;
}

/** What decoding a sample depends on, read when the sample's turn comes. */
export interface DecodeContext {
  /** The semantic codec, if this receiver has one. */
  readonly codec: SemanticCodec | undefined;
  /** The sender's hello on the current link. */
  readonly hello: HelloMessage | undefined;
  /**
   * The serve of our current instruction that named tag `ik`: the latest, or one shortly before it whose
   * last samples are still arriving.
   */
  serveFor(ik: unknown): ServeMessage | undefined;
  /** What we asked for. */
  readonly instruction: ReceiverInstruction;
}

/** A decoded sample, or why it was not decoded. */
export type DecodeOutcome = ReceiverResult | 'undecodable' | 'not-for-me';

/**
 * Decodes one sample (with its layers, for a layered public sample): raw pixels, the public stream for the
 * public tasks, or the private or shared stream `serve` named. `receivedAt`: when it was reassembled, ms.
 */
export async function decodeSample(
  ctx: DecodeContext,
  sample: ReassembledSample,
  receivedAt: number,
  layers?: ReassembledSample[],
): Promise<DecodeOutcome> {
  const t0 = performance.now();
  const packets = sample.packets;
  const all = layers ?? [sample];
  // A layer of which no packet arrived is only known by the count the others carry (`ln`): it counts as
  // one lost packet (its real count never reached us).
  const missingLayers = layers ? Math.max(0, (layerOf(layers[0]!)?.n ?? layers.length) - layers.length) : 0;
  const base = {
    seq: sample.seq,
    stream: sample.stream,
    op: sample.op,
    packets: all.reduce((n, l) => n + l.count, 0) + missingLayers,
    lostPackets: all.reduce((n, l) => n + l.count - l.received, 0) + missingLayers,
    arrivalAgeMs: sample.ageMs,
  };
  const raw = rawFrameFromSample(sample);
  if (raw) {
    const decodeMs = performance.now() - t0;
    return {
      ...base,
      task: 'raw',
      image: { data: raw.data, width: raw.width, height: raw.height },
      decodeMs,
      latencyMs: sample.ageMs + (Date.now() - receivedAt),
      recoveredPackets: 0,
    };
  }
  const { codec, hello, instruction } = ctx;
  const serve = isPublicStream(sample.stream) ? undefined : ctx.serveFor((sample.op as { ik?: unknown }).ik);
  if (!codec || !hello || hello.codec !== 'semantic') return 'undecodable';
  const op = fromWireOperatingPoint(sample.op, { C: codec.manifest.dims.C });
  let decoded: DecodedSample;
  let task: string;
  if (
    isPublicStream(sample.stream) &&
    (instruction.task === 'reconstruct' || instruction.task === 'transmit')
  ) {
    task = instruction.task;
    decoded = layers
      ? await codec.decodeSample({
          stream: 'public',
          modality: hello.modality,
          layers: layers.map((l) => ({ start: Number((l.op as { ls?: unknown }).ls), packets: l.packets })),
          op: { ...op, rateSymbols: codec.manifest.dims.C },
        })
      : await codec.decodeSample({ stream: 'public', modality: hello.modality, packets, op });
  } else if (serve) {
    task = serve.instruction.task;
    decoded = await codec.decodeSample({
      stream: 'private',
      instruction: {
        task: serve.instruction.task,
        modality: serve.instruction.modality,
        output: serve.instruction.output,
        ...(serve.instruction.query ? { query: serve.instruction.query } : {}),
      },
      packets,
      op,
    });
  } else {
    return 'not-for-me';
  }
  const decodeMs = performance.now() - t0;
  const latencyMs = sample.ageMs + (Date.now() - receivedAt);
  const recoveredPackets = decoded.received.recovered;
  if (decoded.kind === 'image') {
    const img = decoded.image;
    return {
      ...base,
      task,
      decodeMs,
      latencyMs,
      recoveredPackets,
      image: { data: toRgb8(img), width: img.width, height: img.height },
    };
  }
  return { ...base, task, decodeMs, latencyMs, recoveredPackets, text: decoded.text.text };
}
