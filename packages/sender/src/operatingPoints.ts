import { type OperatingPoint, PACKET_HEADER_BYTES } from '@m4sc/semantic-codec';

const cost = (p: OperatingPoint) => p.rateSymbols * p.bits;

/** The cheapest of a bundle's operating points by symbols × bits per token. */
export function cheapestOperatingPoint(points: readonly OperatingPoint[]): OperatingPoint {
  const p = [...points].sort((a, b) => cost(a) - cost(b))[0];
  if (!p) throw new TypeError('the bundle declares no operating point');
  return p;
}

/**
 * m4sc-send's default for private streams: the cheapest point at the bundle's full rate. Rate is what the private
 * tasks need, more than bits, and most of all on a lossy link. The default bundle's caption exact match on 150
 * held-out scenes (`privateOperatingPoint.test.ts` prints them; the coder conditioned on the loss, each sample in
 * `minPacketsForLoss` packets, a sample lost whole counted wrong):
 *
 * | point | bytes | clean | 20 % packet loss (3 packets a sample) |
 * |---|---|---|---|
 * | q4-quarter (the cheapest) | 32 | 0.89 | — |
 * | q4-half | 40 | — | 0.85 |
 * | q4-full (this default) | 56 | 1.00 | 0.96 |
 *
 * The adaptation still goes cheaper on a link that cannot carry it.
 */
export function defaultPrivateOperatingPoint(points: readonly OperatingPoint[]): OperatingPoint {
  const full = Math.max(...points.map((p) => p.rateSymbols));
  return cheapestOperatingPoint(points.filter((p) => p.rateSymbols === full));
}

/** The cheaper of two operating points by symbols × bits per token (`b` when `a` is absent). */
export const cheaper = (a: OperatingPoint | undefined, b: OperatingPoint): OperatingPoint =>
  a && cost(a) < cost(b) ? a : b;

/**
 * A private point conditioned on the worst loss measured among the receivers it serves. The name stays, and
 * with it the group, its stream and instruction tag: a loss estimate that moves between intervals changes the
 * coder's conditioning (the packets' `l` carries it to the decoder), never which stream a receiver takes.
 */
export function withLossConditioning(op: OperatingPoint, lossRates: readonly number[]): OperatingPoint {
  const loss = Math.min(1, Math.max(op.lossRate, ...lossRates.filter((x) => Number.isFinite(x))));
  return loss === op.lossRate ? op : Object.freeze({ ...op, lossRate: loss });
}

/**
 * Packets to spread one sample over on a link losing `lossRate` of its packets: the fewest that make losing
 * all of them (the whole sample, which no erasure mask can decode) at most 1 % likely, up to 8. 1 on a clean
 * link; 2 at 5-10 % loss, 3 at 20 %, 4 at 30 %. What arrives of a spread sample decodes through its mask.
 */
export function minPacketsForLoss(lossRate: number): number {
  if (!(lossRate > 0)) return 1;
  if (lossRate >= 1) return 8;
  return Math.min(8, Math.ceil(Math.log(0.01) / Math.log(lossRate)));
}

/** Bytes of one private sample at `op`: P tokens × rate symbols at `bits`, plus the packet header. */
export const privateSampleBytes = (op: OperatingPoint, P: number): number =>
  Math.ceil((P * op.rateSymbols * op.bits) / 8) + PACKET_HEADER_BYTES;

/** Tasks answered from the public stream alone: their receivers get no private stream. */
export const PUBLIC_TASKS: ReadonlySet<string> = new Set(['reconstruct', 'transmit']);
