/**
 * Fuzzing the receive path below the codec: the transport's frame and control decoders, the reassembler,
 * and the codec's packet parser and depacketiser. Allowed errors: MalformedFrameError (transport
 * decoders), PacketError (parsePacket; depacketize only with reason 'empty'). Nothing else may escape.
 */
import {
  depacketize,
  PACKET_HEADER_BYTES,
  PacketError,
  packedBytes,
  packetize,
  parsePacket,
} from '@m4sc/semantic-codec';
import {
  decodeControl,
  decodeFrame,
  encodeControl,
  encodeFrame,
  type Frame,
  MalformedFrameError,
  Reassembler,
} from '@m4sc/transport';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../../packages/semantic-codec/src/crc32.js';
import {
  deepMsgpack,
  fcParams,
  getGc,
  HUGE_LENGTH_MSGPACK,
  heapAfterGc,
  hostileNumber,
  hostileValue,
  mutateBytes,
} from './helpers.js';

const packr = new Packr({ useRecords: false, moreTypes: false });

/** Case counts, recorded in docs/SECURITY.md. */
const RUNS = {
  frameRandom: 2000,
  frameMutated: 2000,
  frameFields: 2000,
  control: 1500,
  reassembler: 200,
  packetRandom: 2000,
  packetMutated: 2000,
  packetHeaders: 3000,
  depacketize: 500,
  memoryRounds: 6,
};

const validFrame: fc.Arbitrary<Frame> = fc
  .record({
    stream: fc.constantFrom('public', 'private', 'private:r1', 'shared:a/b', 's'.repeat(48)),
    pseq: fc.nat({ max: 0xffffffff }),
    seq: fc.nat({ max: 0xffffffff }),
    count: fc.integer({ min: 1, max: 1024 }),
    captureTsMs: fc.double({ min: 0, max: 1e13, noNaN: true }),
    op: fc.constantFrom({ name: 'q8-full', v: 1, rateSymbols: 16, bits: 8 }, {}, { ik: 'x' }),
    payload: fc.uint8Array({ maxLength: 64 }),
    indexFrac: fc.double({ min: 0, max: 0.999, noNaN: true }),
  })
  .map(({ indexFrac, ...f }) => ({ ...f, index: Math.floor(indexFrac * f.count) }));

/** A decoded frame must satisfy every documented invariant. */
function checkFrame(f: Frame): void {
  expect(typeof f.stream).toBe('string');
  expect(f.stream.length).toBeGreaterThan(0);
  expect(Number.isInteger(f.count) && f.count >= 1 && f.count <= 1024).toBe(true);
  expect(Number.isInteger(f.index) && f.index >= 0 && f.index < f.count).toBe(true);
  expect(Number.isInteger(f.seq) && f.seq >= 0 && f.seq <= 0xffffffff).toBe(true);
  expect(Number.isFinite(f.captureTsMs) && f.captureTsMs >= 0).toBe(true);
  expect(f.payload).toBeInstanceOf(Uint8Array);
}

/** decodeFrame: a valid Frame or MalformedFrameError, nothing else. */
function decodeFrameOrMalformed(bytes: Uint8Array): Frame | undefined {
  try {
    const f = decodeFrame(bytes);
    checkFrame(f);
    return f;
  } catch (e) {
    if (!(e instanceof MalformedFrameError)) throw e;
    return undefined;
  }
}

describe('fuzz: transport wire decoders', () => {
  it('decodeFrame throws only MalformedFrameError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1500 }), (b) => {
        decodeFrameOrMalformed(b);
      }),
      fcParams(RUNS.frameRandom, 1),
    );
  });

  it('decodeFrame throws only MalformedFrameError on mutated valid frames', () => {
    fc.assert(
      fc.property(
        validFrame.chain((f) => mutateBytes(encodeFrame(f))),
        (b) => {
          decodeFrameOrMalformed(b);
        },
      ),
      fcParams(RUNS.frameMutated, 2),
    );
  });

  it('decodeFrame validates every field of a 9-element array (NaN, ±Infinity, huge, wrong types)', () => {
    const field = fc.oneof(hostileValue, hostileNumber);
    fc.assert(
      fc.property(validFrame, fc.array(fc.tuple(fc.nat({ max: 8 }), field), { maxLength: 4 }), (f, edits) => {
        const arr: unknown[] = [1, f.stream, f.pseq, f.seq, f.index, f.count, f.captureTsMs, f.op, f.payload];
        for (const [i, v] of edits) arr[i] = v;
        let bytes: Uint8Array;
        try {
          bytes = packr.pack(arr);
        } catch {
          return; // not encodable (e.g. undefined inside a map): not a wire message
        }
        decodeFrameOrMalformed(bytes);
      }),
      fcParams(RUNS.frameFields, 3),
    );
  });

  it('decodeFrame and decodeControl survive deep nesting and huge announced lengths', () => {
    for (const bytes of [
      deepMsgpack(10),
      deepMsgpack(10_000),
      deepMsgpack(200_000),
      ...HUGE_LENGTH_MSGPACK,
    ]) {
      decodeFrameOrMalformed(bytes);
      try {
        decodeControl(bytes);
      } catch (e) {
        expect(e).toBeInstanceOf(MalformedFrameError);
      }
    }
  });

  it('decodeControl throws only MalformedFrameError on any envelope', () => {
    const envelope = fc.oneof(
      fc.uint8Array({ maxLength: 512 }),
      fc
        .tuple(
          fc.oneof(fc.constant(1), hostileNumber),
          fc.oneof(fc.nat({ max: 4 }), hostileValue),
          fc.anything(),
        )
        .map((a) => {
          try {
            return packr.pack(a);
          } catch {
            return new Uint8Array(0);
          }
        }),
      fc
        .constantFrom(
          encodeControl({ kind: 'ping', t0Ms: 5 }),
          encodeControl({ kind: 'pong', t0Ms: 5, t1Ms: 6 }),
          encodeControl({
            kind: 'link-report',
            report: {
              timestampMs: 1,
              lossRate: { public: 0.1, private: undefined },
              receivedBytesPerSec: 10,
              age: { p50Ms: 1, p95Ms: 2, count: 3 },
              drops: { stale: 0, late: 0, duplicate: 0, malformed: 0, backpressure: 0 },
            },
          }),
          encodeControl({ kind: 'user', body: { t: 'instruction', id: 1, task: 'caption' } }),
        )
        .chain(mutateBytes),
    );
    fc.assert(
      fc.property(envelope, (b) => {
        try {
          const m = decodeControl(b);
          expect(['user', 'ping', 'pong', 'link-report']).toContain(m.kind);
          if (m.kind === 'ping') expect(Number.isFinite(m.t0Ms)).toBe(true);
        } catch (e) {
          if (!(e instanceof MalformedFrameError)) throw e;
        }
      }),
      fcParams(RUNS.control, 4),
    );
  });

  it('Reassembler stays bounded and consistent under any sequence of frames', () => {
    // Small domains so that streams, sequence numbers and indices collide (duplicates, late, conflicting headers).
    const step = fc.oneof(
      {
        weight: 9,
        arbitrary: fc.record({
          stream: fc.constantFrom(...Array.from({ length: 20 }, (_, i) => `s${i}`)),
          seq: fc.oneof(fc.nat({ max: 80 }), fc.constantFrom(0xffffffff, 2000, 5000)),
          count: fc.constantFrom(1, 2, 3, 1024),
          indexFrac: fc.double({ min: 0, max: 0.999, noNaN: true }),
          capture: fc.oneof(fc.constant(0), fc.integer({ min: -2000, max: 2000 }), fc.constant(1e300)),
          dt: fc.nat({ max: 300 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ tick: fc.constant(true), dt: fc.nat({ max: 400 }) }) },
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 300 }), (steps) => {
        const r = new Reassembler({ channel: 'public' });
        let now = 1_000_000;
        for (const s of steps) {
          now += s.dt;
          const out =
            'tick' in s
              ? r.tick(now)
              : r.process(
                  {
                    stream: s.stream,
                    pseq: 0,
                    seq: s.seq,
                    count: s.count,
                    index: Math.floor(s.indexFrac * s.count),
                    captureTsMs: Math.max(0, now + s.capture),
                    op: {},
                    payload: new Uint8Array(1),
                  },
                  now,
                );
          for (const x of out) {
            expect(x.packets.length).toBe(x.count);
            expect(x.received).toBe(x.packets.filter((p) => p !== undefined).length);
            expect(x.complete).toBe(x.received === x.count);
          }
          // 16 streams × 64 pending samples at most.
          expect(r.pendingCount).toBeLessThanOrEqual(16 * 64);
        }
        const c = r.counters;
        for (const v of Object.values(c)) expect(Number.isInteger(v) && v >= 0).toBe(true);
      }),
      fcParams(RUNS.reassembler, 5),
    );
  });
});

/** Builds a packet header + payload with a correct CRC, so the fuzzer gets past the checksum. */
function craftPacket(h: {
  bits: number;
  T: number;
  C: number;
  r: number;
  gw: number;
  index: number;
  count: number;
  scale: number;
  flags: number;
  payload: Uint8Array;
}): Uint8Array {
  const p = new Uint8Array(PACKET_HEADER_BYTES + h.payload.length);
  const v = new DataView(p.buffer);
  p[0] = 0x4d;
  p[1] = 1;
  p[2] = h.bits;
  p[3] = h.flags;
  v.setUint16(4, h.T, true);
  v.setUint16(6, h.C, true);
  v.setUint16(8, h.r, true);
  v.setUint16(10, h.gw, true);
  v.setUint16(12, h.index, true);
  v.setUint16(14, h.count, true);
  v.setFloat32(16, h.scale, true);
  p.set(h.payload, PACKET_HEADER_BYTES);
  v.setUint32(20, crc32(p.subarray(PACKET_HEADER_BYTES), crc32(p.subarray(0, 20))), true);
  return p;
}

const u16 = fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 16, 64, 255, 256, 65535), fc.nat({ max: 65535 }));

/**
 * Headers with a valid CRC. Shapes are kept to T·C ≤ 2^20 when no expected C is given: a header may claim
 * up to 65535·65535 symbols and depacketize then allocates that much (lazily); see docs/SECURITY.md.
 */
const craftedHeader = fc
  .record({
    bits: fc.oneof(fc.constantFrom(0, 1, 2, 4, 8, 16, 17, 31, 32, 33, 255), fc.nat({ max: 255 })),
    T: u16,
    C: u16,
    r: u16,
    gw: u16,
    index: u16,
    count: u16,
    scale: fc.oneof(
      fc.constantFrom(0, -0, 1, -1, Number.NaN, Number.POSITIVE_INFINITY, 3.4e38, 1e-45),
      fc.float(),
    ),
    flags: fc.oneof(fc.constant(0), fc.nat({ max: 255 })),
    exact: fc.boolean(),
    extra: fc.integer({ min: -3, max: 3 }),
    payloadSeed: fc.uint8Array({ maxLength: 32 }),
  })
  .filter((h) => h.T * h.C <= 1 << 20)
  .map((h) => {
    // Mostly the exact payload length the header implies, so the parser reaches its last checks.
    const n = h.r * h.T;
    const m =
      h.count >= 1 && h.index < h.count && h.index < n ? Math.floor((n - 1 - h.index) / h.count) + 1 : 0;
    const bits = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 32].includes(h.bits) ? h.bits : 8;
    const need = h.exact ? packedBytes(Math.min(m, 4096), bits) : h.payloadSeed.length;
    const len = Math.max(0, Math.min(need + h.extra, 20_000));
    const payload = new Uint8Array(len);
    for (let i = 0; i < len; i++) payload[i] = h.payloadSeed[i % Math.max(1, h.payloadSeed.length)] ?? 0;
    return craftPacket({ ...h, payload });
  });

/** parsePacket: ok with finite values of the right count, or a PacketError. */
function parseOrPacketError(b: Uint8Array): void {
  try {
    const { header, values } = parsePacket(b);
    const n = header.rateSymbols * header.T;
    expect(header.index).toBeLessThan(header.count);
    expect(values.length).toBe(Math.floor((n - 1 - header.index) / header.count) + 1);
    for (const v of values) expect(Number.isFinite(v)).toBe(true);
  } catch (e) {
    if (!(e instanceof PacketError)) throw e;
  }
}

const sampleSymbols = fc
  .record({
    T: fc.integer({ min: 1, max: 40 }),
    C: fc.integer({ min: 1, max: 16 }),
    bits: fc.constantFrom(1, 2, 4, 8, 16, 32),
    rateFrac: fc.double({ min: 0.01, max: 1, noNaN: true }),
    minPackets: fc.integer({ min: 1, max: 8 }),
    seed: fc.integer(),
  })
  .map(({ T, C, bits, rateFrac, minPackets, seed }) => {
    const s = new Float32Array(T * C);
    let x = seed | 0;
    for (let i = 0; i < s.length; i++) {
      x = (x * 1103515245 + 12345) | 0;
      s[i] = ((x >>> 8) / 2 ** 24 - 0.5) * 4;
    }
    const rateSymbols = Math.max(1, Math.ceil(rateFrac * C));
    return { T, C, packets: packetize(s, { T, C, bits, rateSymbols, minPackets, maxPacketBytes: 200 }) };
  });

describe('fuzz: codec packet parser and depacketiser', () => {
  it('parsePacket throws only PacketError on random bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 1200 }),
          fc.uint8Array({ minLength: 23, maxLength: 40 }).map((b) => Uint8Array.of(0x4d, 1, ...b)),
        ),
        parseOrPacketError,
      ),
      fcParams(RUNS.packetRandom, 11),
    );
  });

  it('parsePacket throws only PacketError on mutated valid packets', () => {
    fc.assert(
      fc.property(
        sampleSymbols.chain(({ packets }) => fc.constantFrom(...packets).chain(mutateBytes)),
        parseOrPacketError,
      ),
      fcParams(RUNS.packetMutated, 12),
    );
  });

  it('parsePacket checks every header field behind a valid CRC (NaN/Infinity scale, r > C, count > n, …)', () => {
    fc.assert(fc.property(craftedHeader, parseOrPacketError), fcParams(RUNS.packetHeaders, 13));
  });

  it('depacketize returns a consistent result or PacketError(empty) for any mix of packets and holes', () => {
    const item = (good: Uint8Array[]) =>
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...good) },
        { weight: 1, arbitrary: fc.constantFrom(undefined, null) },
        { weight: 1, arbitrary: fc.constantFrom(...good).chain(mutateBytes) },
        { weight: 1, arbitrary: craftedHeader },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
      );
    fc.assert(
      fc.property(
        sampleSymbols.chain((s) =>
          fc.record({
            s: fc.constant(s),
            list: fc.array(item(s.packets), { maxLength: 12 }),
            pin: fc.constantFrom('none', 'C', 'TC'),
          }),
        ),
        ({ s, list, pin }) => {
          const opts = pin === 'none' ? {} : pin === 'C' ? { C: s.C } : { T: s.T, C: s.C };
          try {
            const r = depacketize(list, opts);
            expect(r.symbols.length).toBe(r.T * r.C);
            expect(r.mask.length).toBe(r.T * r.C);
            if (pin !== 'none') expect(r.C).toBe(s.C);
            if (pin === 'TC') expect(r.T).toBe(s.T);
            for (let i = 0; i < r.mask.length; i++) {
              const m = r.mask[i]!;
              expect(m === 0 || m === 1).toBe(true);
              if (m === 1) expect(Number.isFinite(r.symbols[i]!)).toBe(true);
            }
            expect(r.received).toBeLessThanOrEqual(Math.max(r.packetCount, 0));
            for (const e of r.errors) expect(e).toBeInstanceOf(PacketError);
          } catch (e) {
            expect(e).toBeInstanceOf(PacketError);
            expect((e as PacketError).reason).toBe('empty');
          }
        },
      ),
      fcParams(RUNS.depacketize, 14),
    );
  });
});

describe('fuzz: memory', () => {
  it('heapUsed after gc does not grow across repeated fuzz rounds of the wire decoders', async () => {
    const gc = getGc();
    const round = (seed: number) => {
      const r = new Reassembler({ channel: 'private' });
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 300 }),
          validFrame.chain((f) => mutateBytes(encodeFrame(f))),
          (a, b) => {
            decodeFrameOrMalformed(a);
            const f = decodeFrameOrMalformed(b);
            if (f) r.process({ ...f, captureTsMs: 1000 }, 1000);
            parseOrPacketError(a);
          },
        ),
        fcParams(300, 100 + seed),
      );
      r.tick(1e9);
    };
    round(0); // warm-up: JIT, msgpackr's caches
    const before = await heapAfterGc(gc);
    for (let i = 1; i <= RUNS.memoryRounds; i++) round(i);
    const after = await heapAfterGc(gc);
    // Each round allocates tens of MB in total; what stays must be noise, not a leak per case.
    expect(after - before).toBeLessThan(8 * 1024 * 1024);
  });
});
