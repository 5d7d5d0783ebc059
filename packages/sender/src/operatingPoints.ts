import { type OperatingPoint, PACKET_HEADER_BYTES } from '@m4sc/semantic-codec';

/**
 * The cheapest of a bundle's operating points by symbols × bits per token: m4sc-send's default for private
 * streams, where the private tasks lose nothing on held-out data (docs/EVAL.md, rate-4 and 4-bit conditions).
 */
export function cheapestOperatingPoint(points: readonly OperatingPoint[]): OperatingPoint {
  const p = [...points].sort((a, b) => a.rateSymbols * a.bits - b.rateSymbols * b.bits)[0];
  if (!p) throw new TypeError('the bundle declares no operating point');
  return p;
}

/** The cheaper of two operating points by symbols × bits per token (`b` when `a` is absent). */
export const cheaper = (a: OperatingPoint | undefined, b: OperatingPoint): OperatingPoint =>
  a && a.rateSymbols * a.bits < b.rateSymbols * b.bits ? a : b;

/** Bytes of one private sample at `op`: P tokens × rate symbols at `bits`, plus the packet header. */
export const privateSampleBytes = (op: OperatingPoint, P: number): number =>
  Math.ceil((P * op.rateSymbols * op.bits) / 8) + PACKET_HEADER_BYTES;

/** Tasks answered from the public stream alone: their receivers get no private stream. */
export const PUBLIC_TASKS: ReadonlySet<string> = new Set(['reconstruct', 'transmit']);
