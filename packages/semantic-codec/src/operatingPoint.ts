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
