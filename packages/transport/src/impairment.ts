/** A seeded PRNG returning floats in [0, 1); mulberry32, so impairment runs are reproducible. */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Gilbert-Elliott two-state loss: a good and a bad state, each with its own loss probability. */
export interface BurstLossOptions {
  /** Probability per packet of moving from the good to the bad state, 0..1. */
  pGoodToBad: number;
  /** Probability per packet of moving from the bad to the good state, 0..1. */
  pBadToGood: number;
  /** Loss in the bad state, percent. Default 100. */
  lossInBadPct?: number;
  /** Loss in the good state, percent. Default 0. */
  lossInGoodPct?: number;
}

/** What to do to packets. Each field states its default. */
export interface ImpairmentOptions {
  /** Independent (Bernoulli) loss per packet, percent 0..100. Default 0. Conflicts with `burst`. */
  lossPct?: number;
  /** Bursty Gilbert-Elliott loss instead of `lossPct`. Default none. */
  burst?: BurstLossOptions;
  /** Fixed one-way delay, milliseconds. Default 0. */
  delayMs?: number;
  /** Uniform jitter added to the delay, ±milliseconds (the total never goes below 0; packets may reorder). Default 0. */
  jitterMs?: number;
}

/** The fate of one packet. */
export interface PacketFate {
  drop: boolean;
  delayMs: number;
}

const checkPct = (name: string, v: number | undefined) => {
  if (v !== undefined && !(Number.isFinite(v) && v >= 0 && v <= 100)) {
    throw new TypeError(`${name} must be a percentage in 0..100, got ${v}`);
  }
};
const checkProb = (name: string, v: number) => {
  if (!(Number.isFinite(v) && v >= 0 && v <= 1)) throw new TypeError(`${name} must be in 0..1, got ${v}`);
};
const checkMs = (name: string, v: number | undefined) => {
  if (v !== undefined && !(Number.isFinite(v) && v >= 0)) {
    throw new TypeError(`${name} must be a non-negative number of milliseconds, got ${v}`);
  }
};

/** Validates impairment options; conflicting options are rejected, never silently resolved. */
export function validateImpairment(options: ImpairmentOptions): void {
  checkPct('lossPct', options.lossPct);
  checkMs('delayMs', options.delayMs);
  checkMs('jitterMs', options.jitterMs);
  if (options.burst !== undefined) {
    if (options.lossPct !== undefined && options.lossPct > 0) {
      throw new TypeError('lossPct and burst are exclusive: give one loss model');
    }
    checkProb('burst.pGoodToBad', options.burst.pGoodToBad);
    checkProb('burst.pBadToGood', options.burst.pBadToGood);
    checkPct('burst.lossInBadPct', options.burst.lossInBadPct);
    checkPct('burst.lossInGoodPct', options.burst.lossInGoodPct);
  }
}

/**
 * The pure core of the impairment relay: decides, packet by packet, whether to drop it and how long to hold it.
 * Deterministic for a given seed and call sequence.
 */
export class Impairment {
  #options: ImpairmentOptions;
  #rng: () => number;
  #bad = false;

  constructor(options: ImpairmentOptions, seed: number) {
    validateImpairment(options);
    this.#options = { ...options };
    this.#rng = createRng(seed);
  }

  /** Replaces the impairment from now on (the burst state is kept). */
  set(options: ImpairmentOptions): void {
    validateImpairment(options);
    this.#options = { ...options };
  }

  /** Draws the fate of the next packet. */
  next(): PacketFate {
    const o = this.#options;
    let lossPct = o.lossPct ?? 0;
    if (o.burst !== undefined) {
      const flip = this.#rng();
      this.#bad = this.#bad ? flip >= o.burst.pBadToGood : flip < o.burst.pGoodToBad;
      lossPct = this.#bad ? (o.burst.lossInBadPct ?? 100) : (o.burst.lossInGoodPct ?? 0);
    }
    const drop = lossPct > 0 && this.#rng() * 100 < lossPct;
    const jitter = o.jitterMs ?? 0;
    const delayMs = Math.max(0, (o.delayMs ?? 0) + (jitter > 0 ? (this.#rng() * 2 - 1) * jitter : 0));
    return { drop, delayMs };
  }
}
