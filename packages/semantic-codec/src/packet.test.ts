import { describe, expect, it } from 'vitest';
import { PacketError } from './errors.js';
import { depacketize, PACKET_HEADER_BYTES, packetize, parsePacket } from './packet.js';
import { createRng } from './rng.js';

const T = 64;
const C = 16;
const symbols = (() => {
  const r = createRng(11);
  return Float32Array.from({ length: T * C }, () => r.normal());
})();

describe('packetize/depacketize', () => {
  it('round-trips at full rate within quantiser error and keeps every packet under the limit', () => {
    const pkts = packetize(symbols, { T, C, bits: 8, maxPacketBytes: 300 });
    expect(pkts.length).toBe(Math.ceil((T * C) / (300 - PACKET_HEADER_BYTES)));
    for (const p of pkts) expect(p.length).toBeLessThanOrEqual(300);
    const out = depacketize(pkts);
    expect(out.errors).toEqual([]);
    expect(out.received).toBe(pkts.length);
    expect(Array.from(out.mask).every((m) => m === 1)).toBe(true);
    for (let i = 0; i < T * C; i++) expect(Math.abs(out.symbols[i]! - symbols[i]!)).toBeLessThan(0.03);
  });

  it('keeps only the r·T prefix (symbol-major) and masks the rest', () => {
    const pkts = packetize(symbols, { T, C, rateSymbols: 4, bits: 4, maxPacketBytes: 100 });
    const out = depacketize(pkts);
    expect(out.rateSymbols).toBe(4);
    for (let j = 0; j < T * C; j++) expect(out.mask[j]).toBe(j < 4 * T ? 1 : 0);
    for (let j = 4 * T; j < T * C; j++) expect(out.symbols[j]).toBe(0);
  });

  it('a lost packet erases positions j ≡ i (mod N), spread over tokens, not a block', () => {
    const pkts = packetize(symbols, { T, C, bits: 8, maxPacketBytes: 200 });
    const N = pkts.length;
    const holes: (Uint8Array | undefined)[] = [...pkts];
    holes[2] = undefined;
    const out = depacketize(holes);
    expect(out.received).toBe(N - 1);
    for (let j = 0; j < T * C; j++) expect(out.mask[j]).toBe(j % N === 2 ? 0 : 1);
  });

  it('packets may arrive in any order', () => {
    const pkts = packetize(symbols, { T, C, bits: 6, maxPacketBytes: 200 });
    const a = depacketize(pkts);
    const b = depacketize([...pkts].reverse());
    expect(b.symbols).toEqual(a.symbols);
  });

  it('spreads over minPackets and carries gridWidth', () => {
    const pkts = packetize(symbols, { T, C, bits: 8, minPackets: 7, gridWidth: 8 });
    expect(pkts.length).toBe(7);
    expect(parsePacket(pkts[0]!).header.gridWidth).toBe(8);
    expect(depacketize(pkts).gridWidth).toBe(8);
  });

  it('skips a corrupted packet, reports it, and marks its symbols lost', () => {
    const pkts = packetize(symbols, { T, C, bits: 8, maxPacketBytes: 200 });
    const bad = pkts.map((p) => p.slice());
    bad[1]![PACKET_HEADER_BYTES + 3]! ^= 0xff;
    const out = depacketize(bad);
    expect(out.errors.map((e) => e.reason)).toEqual(['checksum']);
    expect(out.mask.filter((m) => m === 0).length).toBe(Math.ceil((T * C - 1) / pkts.length));
  });

  it('rejects packets from another sample and duplicates as inconsistent', () => {
    const a = packetize(symbols, { T, C, bits: 8, maxPacketBytes: 200 });
    const b = packetize(symbols, { T, C, bits: 4, maxPacketBytes: 200 });
    const out = depacketize([a[0], b[1], a[0]]);
    expect(out.errors.map((e) => e.reason)).toEqual(['inconsistent', 'inconsistent']);
    expect(out.received).toBe(1);
  });

  it('all lost: throws PacketError(empty) without a shape, all-zero mask with one', () => {
    expect(() => depacketize([undefined, undefined])).toThrow(PacketError);
    const out = depacketize([undefined], { T: 4, C: 2 });
    expect(out.mask).toEqual(new Float32Array(8));
    expect(out.received).toBe(0);
  });

  it('rejects bad arguments and NaN symbols with TypeError', () => {
    expect(() => packetize(symbols, { T, C: 8, bits: 8 })).toThrow(TypeError);
    expect(() => packetize(symbols, { T, C, rateSymbols: 17, bits: 8 })).toThrow(TypeError);
    expect(() => packetize(symbols, { T, C, bits: 8, maxPacketBytes: 24 })).toThrow(TypeError);
    const nan = symbols.slice();
    nan[5] = Number.NaN;
    expect(() => packetize(nan, { T, C, bits: 8 })).toThrow(TypeError);
  });
});

describe('parsePacket', () => {
  const good = packetize(symbols, { T, C, bits: 8, maxPacketBytes: 200 })[0]!;

  it('names why a packet is refused', () => {
    const reason = (b: Uint8Array) => {
      try {
        parsePacket(b);
      } catch (e) {
        expect(e).toBeInstanceOf(PacketError);
        return (e as PacketError).reason;
      }
      return 'ok';
    };
    expect(reason(good)).toBe('ok');
    expect(reason(good.subarray(0, 10))).toBe('truncated');
    expect(reason(good.subarray(0, good.length - 1))).toBe('truncated');
    const magic = good.slice();
    magic[0] = 0;
    expect(reason(magic)).toBe('magic');
    const ver = good.slice();
    ver[1] = 9;
    expect(reason(ver)).toBe('version');
    const hdr = good.slice();
    hdr[8] = 200; // r > C
    expect(reason(hdr)).toBe('header');
  });

  it('never throws anything but PacketError on random bytes (2000 seeded strings)', () => {
    const r = createRng(99);
    for (let k = 0; k < 2000; k++) {
      const len = Math.floor(r.next() * 64);
      const b = Uint8Array.from({ length: len }, () => Math.floor(r.next() * 256));
      if (k % 2 === 0 && len > 2) {
        b[0] = 0x4d;
        b[1] = 1;
      }
      expect(() => parsePacket(b)).toThrow(PacketError);
    }
  });
});
