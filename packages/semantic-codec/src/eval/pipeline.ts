/**
 * The evaluation's transmission path: channel-encode a batch of encoded samples (conditioned on the
 * channel state), send every sample through a simulated channel, and channel-decode them in one batch.
 *
 * Two paths:
 * - `symbols`: the ideal analog link training evaluates on — float symbols (no quantiser) through AWGN or
 *   Rayleigh block fading (one fade per sample), with a rate prefix of r symbols per token.
 * - `packets`: what the network does — the real quantiser + `packetize` at an operating point, packets
 *   lost independently, `depacketize` (its mask marks the lost symbols).
 *
 * Decoding is batched through the bundle's channel-decoder stage with exactly the transposition that
 * `codec.channelDecode` applies to one sample (a test checks they agree), because one run per sample
 * would dominate the evaluation's time.
 */
import type { Bundle } from '../bundle.js';
import { awgn, erasure, rayleigh } from '../channels.js';
import type {
  ChannelState,
  ReceivedSymbols,
  SemanticCodec,
  StreamKind,
  Symbols,
  Tokens,
} from '../codecTypes.js';
import type { RgbImage } from '../image.js';
import type { OperatingPoint } from '../operatingPoint.js';
import { isParityPacket, type TextLiteral } from '../packet.js';

/** Samples per model run. */
export const EVAL_BATCH = 128;

export type Condition =
  | {
      readonly path: 'symbols';
      readonly channel: 'awgn' | 'rayleigh';
      readonly snrDb: number;
      /** SNR the coder is conditioned on, when it is not the channel's (`snrDb`), dB. Default `snrDb`. */
      readonly conditionSnrDb?: number;
      /** Symbols per token kept (the rate prefix), 1..C. */
      readonly rateSymbols: number;
    }
  | {
      readonly path: 'packets';
      readonly op: OperatingPoint;
      readonly lossRate: number;
      /**
       * Loss rate the coder is conditioned on, when it is not the path's (`lossRate`): the sender's adaptation
       * conditions on a grid point near the loss it measured. Default `lossRate`.
       */
      readonly conditionLossRate?: number;
      /** Spread each sample's stream over at least this many packets. */
      readonly minPackets: number;
      readonly maxPacketBytes: number;
      /**
       * Add parity packets for the conditioned loss rate (`PacketizeOptions.fec`), as the sender does for the
       * public image code. Default false.
       */
      readonly fec?: boolean;
    };

/** The state the coder is conditioned on: the true SNR (symbols) or the quantiser's SNR and the loss rate. */
export function conditionState(c: Condition): ChannelState {
  return c.path === 'symbols'
    ? { snrDb: c.conditionSnrDb ?? c.snrDb, lossRate: 0 }
    : { snrDb: c.op.snrDb, lossRate: c.conditionLossRate ?? c.lossRate };
}

export interface Received {
  readonly symbols: Float32Array;
  readonly mask: Float32Array;
}

/** What crossed the channel, per sample: bytes and packets (packets path only). */
export interface TransmitStats {
  readonly bytes: number[];
  readonly packets: number[];
  readonly received: number[];
  /** Of `bytes` and `packets`: the parity packets' (0 without `fec`). */
  readonly parityBytes: number[];
  readonly parityPackets: number[];
  /** Literal words that arrived, per sample (packets path with `literals` given; empty otherwise). */
  readonly literals: TextLiteral[][];
}

const emptyStats = (): TransmitStats => ({
  bytes: [],
  packets: [],
  received: [],
  parityBytes: [],
  parityPackets: [],
  literals: [],
});

/**
 * Channel-decodes same-shaped received samples in batches; returns tokens [N, T, D]. Mirrors
 * `codec.channelDecode`: symbol-major → token-major, lost symbols zeroed, the state repeated per sample.
 */
export async function channelDecodeBatch(
  bundle: Bundle,
  items: readonly Received[],
  T: number,
  C: number,
  state: ChannelState,
  stream: StreamKind,
): Promise<Float32Array> {
  const dec = bundle.channelCoder(stream).decoder;
  const first = Object.values(dec.spec.inputs)[0]?.shape[0];
  const maxB = typeof first === 'number' && first > 0 ? first : EVAL_BATCH;
  const { Tensor } = bundle.ort;
  const n = T * C;
  let out: Float32Array | undefined;
  let D = 0;
  for (let b0 = 0; b0 < items.length; b0 += maxB) {
    const nb = Math.min(maxB, items.length - b0);
    const x = new Float32Array(nb * n);
    const m = new Float32Array(nb * n);
    for (let b = 0; b < nb; b++) {
      const { symbols, mask } = items[b0 + b]!;
      for (let c = 0; c < C; c++) {
        for (let t = 0; t < T; t++) {
          const j = c * T + t;
          const keep = mask[j]! === 1;
          x[b * n + t * C + c] = keep ? symbols[j]! : 0;
          m[b * n + t * C + c] = keep ? 1 : 0;
        }
      }
    }
    const st = new Float32Array(2 * nb);
    for (let b = 0; b < nb; b++) {
      st[2 * b] = state.snrDb;
      st[2 * b + 1] = state.lossRate;
    }
    const res = await dec.run({
      symbols: new Tensor('float32', x, [nb, T, C]),
      mask: new Tensor('float32', m, [nb, T, C]),
      state: new Tensor('float32', st, [nb, 2]),
    });
    const tok = res.tokens!;
    D = tok.dims[2]!;
    out ??= new Float32Array(items.length * T * D);
    out.set(tok.data as Float32Array, b0 * T * D);
  }
  return out ?? new Float32Array(0);
}

type Channel = ReturnType<typeof awgn> | ReturnType<typeof rayleigh> | ReturnType<typeof erasure>;

/** The simulated channel of a condition, seeded (one stream per call of `transmit`/`transmitImages`). */
function channelFor(condition: Condition, seed: number): Channel {
  return condition.path === 'symbols'
    ? (condition.channel === 'awgn' ? awgn : rayleigh)({ snrDb: condition.snrDb, seed })
    : erasure({ lossRate: condition.lossRate, seed });
}

/**
 * Sample `b` of `sym` through the condition's channel: on the symbols path one process() call (a Rayleigh fade
 * per sample, training's block = 0) and the rate prefix as the mask; on the packets path the codec's packets,
 * lost by `chan`, then depacketised (with `stats` counted). The frame gain, where `sym` has one, comes along:
 * as side information on the symbols path, in the packets otherwise.
 */
function sendOne(
  codec: SemanticCodec,
  sym: Symbols,
  b: number,
  condition: Condition,
  chan: Channel,
  stats: TransmitStats,
  literals?: readonly TextLiteral[],
): Received & { gain?: number } {
  const { T, C } = sym;
  const n = T * C;
  if (condition.path === 'symbols') {
    if (chan.name === 'erasure') throw new Error('unreachable');
    const y = chan.process(sym.data.subarray(b * n, (b + 1) * n));
    const mask = new Float32Array(n);
    mask.fill(1, 0, Math.min(C, condition.rateSymbols) * T);
    return { symbols: y, mask, ...(sym.gain ? { gain: sym.gain[b]! } : {}) };
  }
  if (chan.name !== 'erasure') throw new Error('unreachable');
  const packets = codec.packetize(sym, condition.op, condition.maxPacketBytes, {
    sampleIndex: b,
    minPackets: condition.minPackets,
    ...(literals?.length ? { literals } : {}),
    ...(condition.fec ? { fec: { lossRate: conditionState(condition).lossRate } } : {}),
  });
  const arrived = chan.process(packets);
  const res = codec.depacketize(arrived, { T, C });
  stats.literals.push([...res.literals]);
  stats.bytes.push(packets.reduce((s, p) => s + p.length, 0));
  stats.packets.push(packets.length);
  const parity = packets.filter(isParityPacket);
  stats.parityBytes.push(parity.reduce((s, p) => s + p.length, 0));
  stats.parityPackets.push(parity.length);
  stats.received.push(arrived.filter((p) => p !== undefined).length);
  return { symbols: res.symbols, mask: res.mask, ...(res.gain !== undefined ? { gain: res.gain } : {}) };
}

/**
 * Sends a batch of encoded samples (public or private tokens [N, T, D]) through `condition`; returns the
 * decoded tokens [N, T, D] and per-sample stats. `seed` seeds the channel (one stream per call).
 */
export async function transmit(
  codec: SemanticCodec,
  tokens: Tokens,
  stream: StreamKind,
  condition: Condition,
  seed: number,
  /** Per sample: literal words to carry in its packets (packets path; text), as `encodeSample` does. */
  literals?: readonly (readonly TextLiteral[])[],
): Promise<{ tokens: Tokens; stats: TransmitStats }> {
  const state = conditionState(condition);
  const { T, D } = tokens;
  const items: Received[] = [];
  const stats = emptyStats();
  let C = codec.manifest.dims.C;
  const chan = channelFor(condition, seed);
  for (let b0 = 0; b0 < tokens.batch; b0 += EVAL_BATCH) {
    const nb = Math.min(EVAL_BATCH, tokens.batch - b0);
    const part: Tokens = {
      data: tokens.data.subarray(b0 * T * D, (b0 + nb) * T * D),
      batch: nb,
      T,
      D,
      ...(tokens.grid ? { grid: tokens.grid } : {}),
    };
    const sym = await codec.channelEncode(part, state, stream);
    C = sym.C;
    for (let b = 0; b < nb; b++)
      items.push(sendOne(codec, sym, b, condition, chan, stats, literals?.[b0 + b]));
  }
  const data = await channelDecodeBatch(codec.bundle, items, T, C, state, stream);
  return {
    tokens: {
      data,
      batch: tokens.batch,
      T,
      D: data.length / (tokens.batch * T),
      ...(tokens.grid ? { grid: tokens.grid } : {}),
    },
    stats,
  };
}

/**
 * The public image code's path (`streams.image`): each chunk of images is coded for the condition's state and
 * rate (the sender knows both: they are its operating point), sent through the same simulated channels or
 * packets as `transmit`, and decoded by the code's LMMSE and synthesis. The frame gain rides in the packets
 * (packets path); on the symbols path it is side information assumed delivered (32 bits a frame).
 */
export async function transmitImages(
  codec: SemanticCodec,
  images: readonly RgbImage[],
  condition: Condition,
  seed: number,
): Promise<{ images: RgbImage[]; stats: TransmitStats; T: number }> {
  const state = conditionState(condition);
  const C = codec.manifest.dims.C;
  const rate = condition.path === 'symbols' ? Math.min(C, condition.rateSymbols) : condition.op.rateSymbols;
  const stats = emptyStats();
  const chan = channelFor(condition, seed);
  const out: RgbImage[] = [];
  let T = 0;
  for (let b0 = 0; b0 < images.length; b0 += EVAL_BATCH) {
    const part = images.slice(b0, b0 + EVAL_BATCH);
    const sym = await codec.encodeImageCode(part, state, rate);
    T = sym.T;
    const gw = sym.grid![1];
    const received: ReceivedSymbols[] = part.map((_, b) => ({
      ...sendOne(codec, sym, b, condition, chan, stats),
      T: sym.T,
      C: sym.C,
      gridWidth: gw,
    }));
    out.push(...(await codec.decodeImageCode(received, state, rate)));
  }
  return { images: out, stats, T };
}

/** Runs `fn` over [0, n) in chunks of EVAL_BATCH and concatenates the results. */
export async function inChunks<R>(
  n: number,
  fn: (start: number, count: number) => Promise<R[]>,
): Promise<R[]> {
  const out: R[] = [];
  for (let s = 0; s < n; s += EVAL_BATCH) out.push(...(await fn(s, Math.min(EVAL_BATCH, n - s))));
  return out;
}

/** Concatenates token batches of one shape. */
export function concatTokens(parts: readonly Tokens[]): Tokens {
  const first = parts[0]!;
  const data = new Float32Array(parts.reduce((s, p) => s + p.data.length, 0));
  let o = 0;
  for (const p of parts) {
    data.set(p.data, o);
    o += p.data.length;
  }
  return {
    data,
    batch: parts.reduce((s, p) => s + p.batch, 0),
    T: first.T,
    D: first.D,
    ...(first.grid ? { grid: first.grid } : {}),
  };
}

/** Rows `start..start+count` of a token batch. */
export function sliceTokens(t: Tokens, start: number, count: number): Tokens {
  const per = t.T * t.D;
  return { ...t, data: t.data.subarray(start * per, (start + count) * per), batch: count };
}
