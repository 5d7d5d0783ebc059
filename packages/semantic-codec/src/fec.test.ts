import { describe, expect, it } from 'vitest';
import { fecDecode, fecEncode, parityFor } from './fec.js';
import { createRng } from './rng.js';

const shards = (n: number, len: (i: number) => number, seed: number) => {
  const rng = createRng(seed);
  return Array.from({ length: n }, (_, i) =>
    Uint8Array.from({ length: len(i) }, () => Math.floor(rng.next() * 256)),
  );
};
const padded = (d: Uint8Array, L: number) => {
  const out = new Uint8Array(L);
  out.set(d);
  return out;
};

describe('fec (Cauchy Reed-Solomon over GF(2⁸))', () => {
  it('rebuilds every data shard from any N of N + m shards, for every loss pattern of N = 5, m = 3', () => {
    const N = 5;
    const m = 3;
    const data = shards(N, (i) => 40 + i * 3, 7); // unequal lengths: zero-padded to the longest
    const L = Math.max(...data.map((d) => d.length));
    const parity = fecEncode(data, m);
    expect(parity.map((p) => p.length)).toEqual([L, L, L]);
    let patterns = 0;
    for (let lost = 0; lost < 1 << (N + m); lost++) {
      const nLost = [...Array(N + m).keys()].filter((k) => lost & (1 << k)).length;
      const d = data.map((x, i) => (lost & (1 << i) ? undefined : x));
      const p = parity.map((x, j) => (lost & (1 << (N + j)) ? undefined : x));
      const out = fecDecode(d, p);
      if (nLost > m) {
        // More lost than parity: recoverable only when no data shard is among them.
        if (d.some((x) => x === undefined)) expect(out).toBeUndefined();
        continue;
      }
      patterns++;
      expect(out).toBeDefined();
      out!.forEach((x, i) => {
        expect(padded(x, L)).toEqual(padded(data[i]!, L));
      });
    }
    expect(patterns).toBe(1 + 8 + 28 + 56); // every pattern of ≤ 3 losses of 8
  });

  it('a wrong parity byte gives wrong data (the packet CRC is what catches it), not an exception', () => {
    const data = shards(4, () => 16, 3);
    const parity = fecEncode(data, 2);
    parity[0]![5]! ^= 0xff;
    const out = fecDecode([undefined, data[1], data[2], data[3]], [parity[0], undefined])!;
    expect(out[0]).not.toEqual(data[0]);
  });

  it('parityFor: none on a clean link, more for more loss, never more than the data', () => {
    expect(parityFor(8, 0)).toBe(0);
    const at = (p: number) => parityFor(8, p);
    expect(at(0.02)).toBeGreaterThan(0);
    expect(at(0.05)).toBeLessThanOrEqual(at(0.2));
    expect(at(0.2)).toBe(4); // P(> 4 of 12 lost at 20 %) = 0.073 ≤ 0.1; P(> 3 of 11) = 0.16
    expect(parityFor(4, 0.2)).toBe(2); // P(> 2 of 6) = 0.099
    expect(parityFor(4, 0.9)).toBe(4);
    expect(parityFor(4, 1)).toBe(4);
    expect(() => parityFor(0, 0.1)).toThrow(TypeError);
    expect(() => parityFor(4, 1.5)).toThrow(TypeError);
    expect(() => fecEncode([new Uint8Array(1)], 256)).toThrow(/exceed/);
  });
});
