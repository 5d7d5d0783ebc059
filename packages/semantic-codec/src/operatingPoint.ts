/**
 * The operating point: named, versioned, small and serialisable (it travels in every sample header, see
 * docs DESIGN §4). It fixes how a sample was coded: the rate (symbols per token kept), the bits per
 * symbol, and the channel state [snrDb, lossRate] the channel coder was conditioned on.
 */
import { z } from 'zod';
import { isSupportedBits } from './quantiser.js';

export interface OperatingPoint {
  /** A name, e.g. 'q8-full'. */
  readonly name: string;
  /** Version of this point's definition; bump when its fields change meaning. */
  readonly version: number;
  /** Symbols per token kept (1..C): the rate prefix is rateSymbols·T symbols. */
  readonly rateSymbols: number;
  /** Bits per symbol (1..16, or 32 for unquantised float32). */
  readonly bits: number;
  /** SNR in dB the coder is conditioned on (state[0]). */
  readonly snrDb: number;
  /** Packet-loss rate in [0, 1] the coder is conditioned on (state[1]). */
  readonly lossRate: number;
}

export const operatingPointSchema = z.object({
  name: z.string().min(1).max(64),
  version: z.number().int().nonnegative(),
  rateSymbols: z.number().int().positive().max(65535),
  bits: z
    .number()
    .int()
    .refine((b) => isSupportedBits(b), { message: 'bits must be 1..16 or 32' }),
  snrDb: z.number().min(-50).max(100),
  lossRate: z.number().min(0).max(1),
});

/**
 * The SNR equivalent of a quantiser, for conditioning the coder over a real network where quantisation is
 * the only noise: the bundle's `channel.quantiserSnrDb[bits]` when given, else the uniform-quantiser rule
 * of thumb 6.02·bits − 8 dB (max-abs scaling of Gaussian-like symbols loses ~9.5 dB to the 1.76 dB
 * full-scale-sine figure), capped at 40 dB (the top of the training SNR range is 20 dB; more is "clean").
 */
export function quantiserSnrDb(bits: number, table?: Readonly<Record<string, number>>): number {
  const t = table?.[String(bits)];
  if (typeof t === 'number' && Number.isFinite(t)) return t;
  if (bits === 32) return 40;
  return Math.min(40, Math.max(0, 6.02 * bits - 8));
}

/**
 * Validates (and freezes) an operating point; `C` bounds `rateSymbols` when given. Missing `version`
 * defaults to 1, missing `snrDb` to the quantiser's SNR, missing `lossRate` to 0. Throws TypeError.
 */
export function createOperatingPoint(
  input: Partial<OperatingPoint> & Pick<OperatingPoint, 'name' | 'rateSymbols' | 'bits'>,
  options: { C?: number; quantiserSnrDb?: Readonly<Record<string, number>> } = {},
): OperatingPoint {
  if (typeof input !== 'object' || input === null) throw new TypeError('operating point must be an object');
  const filled = {
    name: input.name,
    version: input.version ?? 1,
    rateSymbols: input.rateSymbols,
    bits: input.bits,
    snrDb:
      input.snrDb ??
      (typeof input.bits === 'number' ? quantiserSnrDb(input.bits, options.quantiserSnrDb) : 0),
    lossRate: input.lossRate ?? 0,
  };
  return parseOperatingPoint(filled, options);
}

/** Validates an operating point received from the wire (all fields required). Throws TypeError. */
export function parseOperatingPoint(value: unknown, options: { C?: number } = {}): OperatingPoint {
  const r = operatingPointSchema.safeParse(value);
  if (!r.success) throw new TypeError(`invalid operating point: ${z.prettifyError(r.error)}`);
  if (options.C !== undefined && r.data.rateSymbols > options.C) {
    throw new TypeError(
      `operating point '${r.data.name}': rateSymbols ${r.data.rateSymbols} exceeds C = ${options.C}`,
    );
  }
  return Object.freeze({ ...r.data });
}

/** The coder's conditioning state [snrDb, lossRate]. */
export function operatingPointState(op: Pick<OperatingPoint, 'snrDb' | 'lossRate'>): [number, number] {
  return [op.snrDb, op.lossRate];
}

/**
 * The operating point as it travels in every packet header: the same fields under one-letter keys
 * (`n`ame, `v`ersion, `r`ateSymbols, `b`its, `s`nrDb, `l`ossRate): about 45 bytes of msgpack instead of
 * about 80. It is repeated in every packet, and a private sample is often a single packet of ~60 bytes.
 */
export interface WireOperatingPoint {
  readonly n: string;
  readonly v: number;
  readonly r: number;
  readonly b: number;
  readonly s: number;
  readonly l: number;
}

/** The compact header form of `op` (snrDb and lossRate rounded to 1e-3, which the coder cannot tell apart). */
export function toWireOperatingPoint(op: OperatingPoint): WireOperatingPoint {
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    n: op.name,
    v: op.version,
    r: op.rateSymbols,
    b: op.bits,
    s: round(op.snrDb),
    l: round(op.lossRate),
  };
}

/**
 * Reads an operating point from a packet header: the compact form, or the full one (older senders).
 * Extra keys (e.g. the instruction tag `ik`) are ignored. Throws TypeError when it is neither.
 */
export function fromWireOperatingPoint(value: unknown, options: { C?: number } = {}): OperatingPoint {
  if (typeof value === 'object' && value !== null && 'n' in value) {
    const w = value as Record<string, unknown>;
    return parseOperatingPoint(
      { name: w.n, version: w.v, rateSymbols: w.r, bits: w.b, snrDb: w.s, lossRate: w.l },
      options,
    );
  }
  return parseOperatingPoint(value, options);
}
