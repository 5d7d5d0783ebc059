/**
 * Channel simulators: pure, seeded, synchronous cores (STYLE §2, §11). Names and parameters match the
 * Python ones in `training/` (`awgn` snr_db ↔ snrDb, `rayleigh` block ↔ blockSize, `erasure`
 * loss_rate ↔ lossRate, packet ↔ packetSymbols).
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
  /** Complex symbols (real pairs) sharing one fade; default 0 = the whole call (Python `block`). */
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
 * Rayleigh block fading with perfect CSI at the receiver, as `training/channels/rayleigh.py`: consecutive
 * real pairs (2k, 2k+1) of the symbol-major stream form one complex symbol; one gain h ~ CN(0, 1) per
 * block of `blockSize` complex symbols (0 = the whole call shares one h); y = h·x + n with complex noise
 * of variance 10^(−snrDb/10) per real dimension; the receiver knows h and equalises by zero forcing,
 * x̂ = y / h (|h|² floored at 1e-4, as in training). Deep fades therefore amplify the noise. An odd
 * final real symbol is sent as a complex symbol with zero imaginary part.
 */
export function rayleigh(options: RayleighOptions): SymbolChannel {
  const std = noiseStd(options);
  const blockSize = options.blockSize ?? 0;
  if (!Number.isInteger(blockSize) || blockSize < 0) {
    throw new TypeError(`blockSize must be a non-negative integer, got ${blockSize}`);
  }
  const rng = options.rng ?? createRng(options.seed ?? DEFAULT_SEED);
  return {
    name: 'rayleigh',
    process(symbols) {
      const out = new Float32Array(symbols.length);
      const n = Math.ceil(symbols.length / 2);
      const blk = blockSize === 0 ? Math.max(n, 1) : blockSize;
      let hr = 1;
      let hi = 0;
      for (let k = 0; k < n; k++) {
        if (k % blk === 0) {
          hr = rng.normal() * Math.SQRT1_2;
          hi = rng.normal() * Math.SQRT1_2;
        }
        const xr = symbols[2 * k]!;
        const xi = 2 * k + 1 < symbols.length ? symbols[2 * k + 1]! : 0;
        const yr = hr * xr - hi * xi + std * rng.normal();
        const yi = hr * xi + hi * xr + std * rng.normal();
        const den = Math.max(hr * hr + hi * hi, 1e-4);
        out[2 * k] = (yr * hr + yi * hi) / den;
        if (2 * k + 1 < symbols.length) out[2 * k + 1] = (yi * hr - yr * hi) / den;
      }
      return out;
    },
  };
}

/**
 * A symbol-level erasure mask as `training/channels/erasure.py` draws it (for simulations that skip the
 * packet format): the stream of `length` symbols is cut into runs of `packetSymbols` (0 = every symbol
 * alone), each lost with probability `lossRate`; returns 1 = received, 0 = lost.
 */
export function erasureMask(
  length: number,
  options: ErasureOptions & { packetSymbols?: number },
): Float32Array {
  if (!Number.isInteger(length) || length < 0)
    throw new TypeError(`length must be a non-negative integer, got ${length}`);
  const p = options.lossRate;
  if (typeof p !== 'number' || !(p >= 0 && p <= 1))
    throw new TypeError(`lossRate must be in [0, 1], got ${p}`);
  const run = Math.max(1, options.packetSymbols ?? 0);
  const rng = options.rng ?? createRng(options.seed ?? DEFAULT_SEED);
  const mask = new Float32Array(length);
  for (let i = 0; i < length; i += run) {
    const keep = rng.next() >= p ? 1 : 0;
    mask.fill(keep, i, Math.min(i + run, length));
  }
  return mask;
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
