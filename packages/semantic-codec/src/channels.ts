/**
 * Channel simulators: pure, seeded, synchronous cores (STYLE §2, §11). Names and parameters match the
 * Python ones in `training/` (`awgn` snr_db ↔ snrDb, `rayleigh` block_size ↔ blockSize, `erasure`
 * loss_rate ↔ lossRate).
 *
 * Symbols are real-valued. Signal power is the nominal 1 the channel encoder normalises to (the contract
 * says its output has mean power 1), not the measured power of each call, so noise does not depend on
 * what is sent. Pass `signalPower` to override.
 */
import { DEFAULT_SEED } from './defaults.js';
import { createRng, type Rng } from './rng.js';

/** A channel acting on real symbols. `process` never changes its input. */
export interface SymbolChannel {
  readonly name: 'awgn' | 'rayleigh';
  process(symbols: Float32Array): Float32Array;
}

/** A channel acting on whole packets: a lost packet becomes `undefined`. */
export interface PacketChannel {
  readonly name: 'erasure';
  process(packets: readonly (Uint8Array | undefined)[]): (Uint8Array | undefined)[];
}

export interface AwgnOptions {
  /** Signal-to-noise ratio in dB (required). */
  snrDb: number;
  /** Nominal signal power per real symbol; default 1 (the channel encoder's normalisation). */
  signalPower?: number;
  /** PRNG seed; default `DEFAULT_SEED`. */
  seed?: number;
  /** Noise source instead of the seeded PRNG (standard normal samples), for determinism across tools. */
  rng?: Rng;
}

export interface RayleighOptions extends AwgnOptions {
  /** Symbols sharing one fade coefficient; default 1 (fast fading). Must be a positive integer. */
  blockSize?: number;
}

export interface ErasureOptions {
  /** Probability that each packet is lost, independently, in [0, 1] (required). */
  lossRate: number;
  /** PRNG seed; default `DEFAULT_SEED`. */
  seed?: number;
  rng?: Rng;
}

function checkSnr(snrDb: unknown): number {
  if (typeof snrDb !== 'number' || Number.isNaN(snrDb))
    throw new TypeError(`snrDb must be a number, got ${snrDb}`);
  return snrDb;
}

function noiseStd(o: AwgnOptions): number {
  const snrDb = checkSnr(o.snrDb);
  const p = o.signalPower ?? 1;
  if (!(p > 0) || !Number.isFinite(p)) throw new TypeError(`signalPower must be positive, got ${p}`);
  return Math.sqrt(p / 10 ** (snrDb / 10));
}

/** Additive white Gaussian noise: y = x + n, n ~ N(0, P / 10^(snrDb/10)). */
export function awgn(options: AwgnOptions): SymbolChannel {
  const std = noiseStd(options);
  const rng = options.rng ?? createRng(options.seed ?? DEFAULT_SEED);
  return {
    name: 'awgn',
    process(symbols) {
      const out = new Float32Array(symbols.length);
      for (let i = 0; i < symbols.length; i++) out[i] = symbols[i]! + std * rng.normal();
      return out;
    },
  };
}

/**
 * Rayleigh block fading with perfect CSI at the receiver: each block of `blockSize` symbols is scaled by one
 * gain h = |g|, g ~ CN(0, 1) (so E[h²] = 1), noise is added as in `awgn`, and the receiver, knowing h,
 * equalises by zero forcing: x̂ = y / h. The output is therefore x + n/h: deep fades amplify the noise,
 * which is how the fading shows through to a decoder that sees equalised symbols.
 */
export function rayleigh(options: RayleighOptions): SymbolChannel {
  const std = noiseStd(options);
  const blockSize = options.blockSize ?? 1;
  if (!Number.isInteger(blockSize) || blockSize < 1) {
    throw new TypeError(`blockSize must be a positive integer, got ${blockSize}`);
  }
  const rng = options.rng ?? createRng(options.seed ?? DEFAULT_SEED);
  return {
    name: 'rayleigh',
    process(symbols) {
      const out = new Float32Array(symbols.length);
      let h = 1;
      for (let i = 0; i < symbols.length; i++) {
        if (i % blockSize === 0) {
          const re = rng.normal() * Math.SQRT1_2;
          const im = rng.normal() * Math.SQRT1_2;
          // A gain of exactly 0 has probability 0 but would divide by zero; keep it finite.
          h = Math.max(Math.hypot(re, im), 1e-12);
        }
        const y = h * symbols[i]! + std * rng.normal();
        out[i] = y / h;
      }
      return out;
    },
  };
}

/** Independent packet erasure: each packet is lost (becomes `undefined`) with probability `lossRate`. */
export function erasure(options: ErasureOptions): PacketChannel {
  const p = options.lossRate;
  if (typeof p !== 'number' || !(p >= 0 && p <= 1))
    throw new TypeError(`lossRate must be in [0, 1], got ${p}`);
  const rng = options.rng ?? createRng(options.seed ?? DEFAULT_SEED);
  return {
    name: 'erasure',
    process(packets) {
      return packets.map((pkt) => (rng.next() < p ? undefined : pkt));
    },
  };
}
