import { describe, expect, it } from 'vitest';
import { crc32 } from './crc32.js';
import { PacketError } from './errors.js';
import { parityFor } from './fec.js';
import {
  depacketize,
  isParityPacket,
  PACKET_HEADER_BYTES,
  packetize,
  parsePacket,
  parseParityPacket,
  slotPosition,
} from './packet.js';
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

  it("a lost packet erases rank c of the tokens t ≡ i − c (mod N): 1/N of every token's ranks, no whole token", () => {
    // 8 tokens in 4 packets (N divides T: the exact rule), and 6 tokens in 5 (it does not: the spread).
    for (const [T2, maxPacketBytes] of [
      [8, PACKET_HEADER_BYTES + 32],
      [6, PACKET_HEADER_BYTES + 20],
    ] as const) {
      const sy = Float32Array.from({ length: T2 * C }, (_, i) => Math.cos(i));
      const pkts = packetize(sy, { T: T2, C, bits: 8, maxPacketBytes });
      const N = pkts.length;
      expect(N).toBe(T2 === 8 ? 4 : 5);
      const holes: (Uint8Array | undefined)[] = [...pkts];
      holes[2] = undefined;
      const out = depacketize(holes);
      expect(out.received).toBe(N - 1);
      const lost = [...out.mask].flatMap((v, j) => (v === 0 ? [j] : []));
      expect(lost.length).toBe(Math.floor((T2 * C - 3) / N) + 1);
      if (T2 % N === 0) {
        for (let j = 0; j < T2 * C; j++) {
          const [c, t] = [Math.floor(j / T2), j % T2];
          expect(out.mask[j], `c ${c} t ${t}`).toBe((t + c) % N === 2 ? 0 : 1);
        }
      }
      // No token loses all its ranks (version 1 lost whole tokens when N divided T).
      for (let t = 0; t < T2; t++) {
        const kept = Array.from({ length: C }, (_, c) => out.mask[c * T2 + t]!).reduce((a, b) => a + b, 0);
        expect(kept, `token ${t}`).toBeGreaterThan(0);
      }
    }
  });

  it('reads version 1 packets with their own interleave (position j in packet j mod N)', () => {
    const N = packetize(symbols, { T, C, bits: 8, maxPacketBytes: 200 }).length;
    // The version-1 packets of the same symbols: version 2's packets of symbols placed so that slot s holds
    // position s, relabelled version 1 (the CRC recomputed).
    const placed = new Float32Array(T * C);
    for (let s2 = 0; s2 < T * C; s2++) placed[slotPosition(s2, T, N)] = symbols[s2]!;
    const v1 = packetize(placed, { T, C, bits: 8, maxPacketBytes: 200 }).map((q) => {
      const b = Uint8Array.from(q);
      b[1] = 1;
      new DataView(b.buffer).setUint32(
        20,
        crc32(b.subarray(PACKET_HEADER_BYTES), crc32(b.subarray(0, 20))),
        true,
      );
      return b;
    });
    expect(parsePacket(v1[0]!).header.version).toBe(1);
    const b = depacketize(v1);
    expect(b.errors).toEqual([]);
    expect(b.received).toBe(N);
    for (let j = 0; j < T * C; j++) expect(Math.abs(b.symbols[j]! - symbols[j]!)).toBeLessThan(0.03);
    // A lost version-1 packet erases positions j ≡ i (mod N), as version 1 did.
    const hole = depacketize(v1.map((p, i) => (i === 2 ? undefined : p)));
    for (let j = 0; j < T * C; j++) expect(hole.mask[j]).toBe(j % N === 2 ? 0 : 1);
    // A sample mixing versions is refused packet by packet, not silently misplaced.
    const mixed = depacketize([packetize(symbols, { T, C, bits: 8, maxPacketBytes: 200 })[0]!, v1[1]!]);
    expect(mixed.errors.map((e) => e.reason)).toEqual(['inconsistent']);
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

describe('literal trailer (text words outside the vocabulary)', () => {
  const lits = [
    { t: 3, word: 'schiphol' },
    { t: 9, word: 'zürich' },
  ];
  const trailerBytes = 1 + 2 + 8 + 2 + 7; // count; (u8 t, u8 len, bytes) each; 'zürich' is 7 UTF-8 bytes

  it('every packet carries the words; any one packet restores them; the symbols are unchanged', () => {
    const plain = packetize(symbols, { T, C, bits: 8, maxPacketBytes: 300 });
    const pkts = packetize(symbols, { T, C, bits: 8, maxPacketBytes: 300, literals: lits });
    for (const p of pkts) expect(p.length).toBeLessThanOrEqual(300);
    expect(pkts.length).toBeGreaterThanOrEqual(plain.length);
    const total = (ps: Uint8Array[]) => ps.reduce((n, p) => n + p.length, 0);
    expect(total(pkts) - total(plain) - (pkts.length - plain.length) * PACKET_HEADER_BYTES).toBe(
      pkts.length * trailerBytes,
    );
    for (const p of pkts) expect(parsePacket(p).literals).toEqual(lits);
    const one = depacketize(
      pkts.map((p, i) => (i === pkts.length - 1 ? p : undefined)),
      { T, C },
    );
    expect(one.literals).toEqual(lits);
    expect(one.errors).toEqual([]);
    const all = depacketize(pkts);
    const ref = depacketize(plain);
    for (let i = 0; i < T * C; i++) expect(Math.abs(all.symbols[i]! - ref.symbols[i]!)).toBeLessThan(0.03);
    expect(ref.literals).toEqual([]);
    // A one-packet sample: exactly the trailer's bytes more.
    const small = symbols.subarray(0, 4 * C);
    const a = packetize(small, { T: 4, C, bits: 8 });
    const b = packetize(small, { T: 4, C, bits: 8, literals: [{ t: 3, word: 'schiphol' }] });
    expect(b[0]!.length - a[0]!.length).toBe(1 + 2 + 8);
  });

  it('refuses bad literals when packetising', () => {
    const go = (literals: unknown) => () =>
      packetize(symbols, { T, C, bits: 8, literals: literals as never });
    expect(go([{ t: T, word: 'x' }])).toThrow(/outside 0\.\.63/);
    expect(go([{ t: 0, word: '' }])).toThrow(/1\.\.48/);
    expect(go([{ t: 0, word: 'x'.repeat(49) }])).toThrow(/1\.\.48/);
    expect(go(Array.from({ length: 33 }, (_, t) => ({ t, word: 'x' })))).toThrow(/at most 32/);
    expect(go([{ t: 0 }])).toThrow(/\{ t, word \}/);
  });

  it('a damaged trailer is a PacketError (with a valid CRC, so the parser itself must catch it), never a crash', () => {
    const [p] = packetize(symbols.subarray(0, 4 * C), { T: 4, C, bits: 8, literals: [{ t: 3, word: 'ab' }] });
    const codesEnd = p!.length - (1 + 2 + 2);
    const set = (at: number, v: number) => (b: Uint8Array) => {
      b[at] = v;
      return b;
    };
    const variants: [string, (b: Uint8Array) => Uint8Array][] = [
      ['count 0', set(codesEnd, 0)],
      ['count beyond the words', set(codesEnd, 2)],
      ['token past T', set(codesEnd + 1, 4)],
      ['length 0', set(codesEnd + 2, 0)],
      ['length past the end', set(codesEnd + 2, 9)],
      ['not UTF-8', set(codesEnd + 3, 0xff)],
      ['bytes past its end', (b) => Uint8Array.from([...b, 0])],
      ['flag without a trailer', (b) => b.slice(0, codesEnd)],
      ['unknown flag bit', set(3, 0x03)],
    ];
    for (const [name, damage] of variants) {
      const b = damage(p!.slice());
      // Re-seal the CRC so only the trailer's own checks can refuse it.
      new DataView(b.buffer).setUint32(20, crcOf(b), true);
      expect(() => parsePacket(b), name).toThrow(PacketError);
    }
    expect(parsePacket(p!).literals).toEqual([{ t: 3, word: 'ab' }]);
  });
});

function crcOf(pkt: Uint8Array): number {
  return crc32(pkt.subarray(PACKET_HEADER_BYTES), crc32(pkt.subarray(0, 20)));
}

describe('the frame gain (flag bit 1)', () => {
  it('rides in every packet, survives losses, and costs 4 bytes a packet', () => {
    const plain = packetize(symbols, { T, C, bits: 8, maxPacketBytes: 300 });
    const pkts = packetize(symbols, { T, C, bits: 8, maxPacketBytes: 300, gain: 2.5 });
    expect(pkts.length).toBeGreaterThanOrEqual(plain.length);
    for (const p of pkts) expect(p[3]! & 0x02).toBe(0x02);
    expect(parsePacket(pkts[1]!).header.gain).toBe(2.5);
    const out = depacketize([undefined, pkts[1], ...pkts.slice(2)]);
    expect(out.errors).toEqual([]);
    expect(out.gain).toBe(2.5);
    expect(depacketize(plain).gain).toBeUndefined();
    // Every symbol that arrived still dequantises to what was sent.
    for (let j = 0; j < T * C; j++) {
      if (out.mask[j] === 1) expect(Math.abs(out.symbols[j]! - symbols[j]!)).toBeLessThan(0.03);
    }
  });

  it('refuses a bad gain when sending and when receiving, and a packet whose gain disagrees', () => {
    for (const gain of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 1e60])
      expect(() => packetize(symbols, { T, C, bits: 8, gain })).toThrow(TypeError);
    const pkts = packetize(symbols, { T, C, bits: 8, maxPacketBytes: 300, gain: 2 });
    // A zero gain with a fixed CRC: refused as a header error, not decoded.
    const bad = pkts[0]!.slice();
    new DataView(bad.buffer).setFloat32(PACKET_HEADER_BYTES, 0, true);
    new DataView(bad.buffer).setUint32(
      20,
      crc32(bad.subarray(PACKET_HEADER_BYTES), crc32(bad.subarray(0, 20))),
      true,
    );
    expect(() => parsePacket(bad)).toThrow(PacketError);
    // The CRC covers the gain.
    const flipped = pkts[0]!.slice();
    flipped[PACKET_HEADER_BYTES + 1]! ^= 0x10;
    expect(() => parsePacket(flipped)).toThrow(/CRC/);
    const other = packetize(symbols, { T, C, bits: 8, maxPacketBytes: 300, gain: 3 });
    const out = depacketize([pkts[0], other[1]]);
    expect(out.received).toBe(1);
    expect(out.errors.map((e) => e.reason)).toEqual(['inconsistent']);
  });
});

describe('parity packets (flag bit 2)', () => {
  const lits = [{ t: 5, word: 'zürich' }];
  const opts = { T, C, bits: 8, maxPacketBytes: 300, gain: 1.5, literals: lits, fec: { lossRate: 0.2 } };

  it('a lossy link gets parity packets that fit the limit; a clean one gets none', () => {
    const clean = packetize(symbols, { ...opts, fec: { lossRate: 0 } });
    expect(clean.every((p) => (p[3]! & 0x04) === 0)).toBe(true);
    const pkts = packetize(symbols, opts);
    const N = parsePacket(pkts[0]!).header.count;
    const parity = pkts.slice(N);
    expect(parity.length).toBe(parityFor(N, 0.2));
    expect(parity.length).toBeGreaterThan(0);
    for (const p of pkts) expect(p.length).toBeLessThanOrEqual(300);
    for (const [j, p] of parity.entries()) {
      expect(isParityPacket(p)).toBe(true);
      expect(parseParityPacket(p).header).toEqual({ dataCount: N, parityCount: parity.length, index: j });
      expect(() => parsePacket(p)).toThrow(/parity packet/);
    }
  });

  it('any N of the N + m packets give back every data packet: the same symbols, mask, gain and words', () => {
    const pkts = packetize(symbols, opts);
    const N = parsePacket(pkts[0]!).header.count;
    const m = pkts.length - N;
    const full = depacketize(pkts.slice(0, N));
    const r = createRng(5);
    for (let trial = 0; trial < 40; trial++) {
      // Lose m packets chosen at random (data or parity).
      const lost = new Set<number>();
      while (lost.size < m) lost.add(Math.floor(r.next() * pkts.length));
      const arrived = pkts.map((p, i) => (lost.has(i) ? undefined : p));
      const out = depacketize(arrived, { T, C });
      const dataLost = [...lost].filter((i) => i < N).length;
      expect(out.errors).toEqual([]);
      expect(out.recovered).toBe(dataLost);
      expect(out.received).toBe(N);
      expect(out.parityReceived).toBe(dataLost); // m lost in all: m − dataLost of them parity
      expect(out.symbols).toEqual(full.symbols);
      expect(out.mask).toEqual(full.mask);
      expect(out.gain).toBe(1.5);
      expect(out.literals).toEqual(lits);
    }
    // One loss too many: the data packets that arrived still decode, the rest is masked.
    const tooMany = pkts.map((p, i) => (i <= m ? undefined : p));
    const out = depacketize(tooMany, { T, C });
    expect(out.recovered).toBe(0);
    expect(out.received).toBe(N - m - 1);
  });

  it('rebuilds the sample from parity alone when there are as many parity as data packets', () => {
    const pkts = packetize(symbols.subarray(0, 8 * C), {
      T: 8,
      C,
      bits: 8,
      maxPacketBytes: 100,
      fec: { lossRate: 0.9 },
    });
    const N = parsePacket(pkts[0]!).header.count;
    expect(pkts.length).toBe(2 * N);
    const out = depacketize([...new Array(N).fill(undefined), ...pkts.slice(N)], { T: 8, C });
    expect(out.recovered).toBe(N);
    expect(out.symbols).toEqual(depacketize(pkts.slice(0, N)).symbols);
  });

  it('a damaged or foreign parity packet is refused and named; it never corrupts the sample', () => {
    const pkts = packetize(symbols, opts);
    const N = parsePacket(pkts[0]!).header.count;
    const bad = pkts[N]!.slice();
    bad[PACKET_HEADER_BYTES + 3]! ^= 0x01;
    const out = depacketize([undefined, ...pkts.slice(1, N), bad], { T, C });
    expect(out.errors.map((e) => e.reason)).toEqual(['checksum']);
    expect(out.recovered).toBe(0);
    expect(out.received).toBe(N - 1);
    // A parity packet of another sample (another N) is inconsistent, not used.
    const other = packetize(symbols.subarray(0, 8 * C), {
      T: 8,
      C,
      bits: 8,
      maxPacketBytes: 100,
      fec: { lossRate: 0.5 },
    });
    const foreign = other.find(isParityPacket)!;
    const mixed = depacketize([undefined, ...pkts.slice(1, N), pkts[N], foreign], { T, C });
    expect(mixed.errors.map((e) => e.reason)).toContain('inconsistent');
    expect(mixed.recovered).toBe(1);
    // Random bytes marked as parity: always a PacketError.
    const r = createRng(3);
    for (let k = 0; k < 500; k++) {
      const b = Uint8Array.from({ length: Math.floor(r.next() * 60) + 4 }, () => Math.floor(r.next() * 256));
      b[0] = 0x4d;
      b[3] = 0x04;
      expect(() => parseParityPacket(b)).toThrow(PacketError);
    }
  });
});
