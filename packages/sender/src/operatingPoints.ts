import type { OperatingPoint } from '@m4sc/semantic-codec';

/**
 * The cheapest of a bundle's operating points by symbols × bits per token: m4sc-send's default for private
 * streams, where the private tasks lose nothing on held-out data (docs/EVAL.md, rate-4 and 4-bit conditions).
 */
export function cheapestOperatingPoint(points: readonly OperatingPoint[]): OperatingPoint {
  const p = [...points].sort((a, b) => a.rateSymbols * a.bits - b.rateSymbols * b.bits)[0];
  if (!p) throw new TypeError('the bundle declares no operating point');
  return p;
}
