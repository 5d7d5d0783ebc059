/**
 * Golden packets (test/data/packets/golden-v<PACKET_VERSION>.json): the wire format must not change by
 * accident. If a change is intended, bump PACKET_VERSION and write the new file with M4SC_WRITE_GOLDEN=1 (then
 * `npx biome format --write` it); keep the old versions' files while depacketize still reads them
 * (golden-v1.json: version 1's interleave).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { depacketize, PACKET_VERSION, PACKET_VERSIONS_READ, packetize } from './packet.js';

const goldenFile = (v: number) =>
  fileURLToPath(new URL(`../test/data/packets/golden-v${v}.json`, import.meta.url));
const file = goldenFile(PACKET_VERSION);
const T = 6;
const C = 4;
const symbols = Float32Array.from({ length: T * C }, (_, i) => Math.sin(i * 0.9) * (1 + (i % 3)));
const cases = [
  { name: 'q8-full', bits: 8, rateSymbols: 4, maxPacketBytes: 36 },
  { name: 'q4-half', bits: 4, rateSymbols: 2, maxPacketBytes: 1100, gridWidth: 3 },
  { name: 'f32', bits: 32, rateSymbols: 1, maxPacketBytes: 1100, minPackets: 2 },
];
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe(`golden packets v${PACKET_VERSION}`, () => {
  const produced = Object.fromEntries(
    cases.map((c) => [c.name, packetize(symbols, { T, C, ...c }).map(hex)]),
  );
  if (process.env.M4SC_WRITE_GOLDEN)
    writeFileSync(file, `${JSON.stringify({ version: PACKET_VERSION, T, C, packets: produced }, null, 1)}\n`);

  it('packetize produces the stored bytes', () => {
    expect(existsSync(file)).toBe(true);
    const golden = JSON.parse(readFileSync(file, 'utf8')) as {
      version: number;
      packets: Record<string, string[]>;
    };
    expect(golden.version).toBe(PACKET_VERSION);
    expect(produced).toEqual(golden.packets);
  });

  it.each(PACKET_VERSIONS_READ)('the stored bytes of version %i depacketize to the rate prefix', (v) => {
    const golden = JSON.parse(readFileSync(goldenFile(v), 'utf8')) as {
      version: number;
      packets: Record<string, string[]>;
    };
    expect(golden.version).toBe(v);
    for (const c of cases) {
      const out = depacketize(golden.packets[c.name]!.map((h) => new Uint8Array(Buffer.from(h, 'hex'))));
      expect(out.errors).toEqual([]);
      expect(out.mask.reduce((s, v) => s + v, 0)).toBe(c.rateSymbols * T);
      // Every symbol of the prefix back in its place, within the quantiser's step.
      const step = c.bits === 32 ? 1e-6 : c.bits === 8 ? 0.03 : 0.5;
      for (let j = 0; j < c.rateSymbols * T; j++)
        expect(Math.abs(out.symbols[j]! - symbols[j]!)).toBeLessThan(step);
    }
  });
});
