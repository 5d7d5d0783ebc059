import { describe, expect, it } from 'vitest';
import { MalformedFrameError } from './errors.js';
import {
  decodeFrame,
  encodeFrame,
  frameHeaderBudgetBytes,
  isValidStreamId,
  maxPayloadBytesFor,
  packValue,
  splitPayload,
} from './framer.js';
import { createRng } from './impairment.js';
import type { Frame } from './types.js';

const frame = (over: Partial<Frame> = {}): Frame => ({
  stream: 'private:receiver-1',
  pseq: 17,
  seq: 42,
  index: 1,
  count: 3,
  captureTsMs: 1_764_000_000_123.5,
  op: { name: 'r64b4', v: 1, rate: 64, bits: 4, snrDb: 12.5 },
  payload: new Uint8Array([1, 2, 3, 250]),
  ...over,
});

/** Decodes, and returns the error field when it throws a MalformedFrameError; fails on anything else. */
const decodeOrField = (bytes: Uint8Array): string => {
  try {
    decodeFrame(bytes);
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(MalformedFrameError);
    return (e as MalformedFrameError).field;
  }
};

describe('framer', () => {
  it('round-trips every field', () => {
    const f = frame();
    const back = decodeFrame(encodeFrame(f));
    expect(back).toEqual({ ...f, payload: expect.any(Uint8Array) });
    expect([...back.payload]).toEqual([...f.payload]);
  });

  it('keeps a full-budget frame within the MTU', () => {
    const mtu = 1200;
    const opBudget = 96;
    const op: Record<string, unknown> = { name: 'x'.repeat(60), v: 1 };
    expect(packValue(op).byteLength).toBeLessThanOrEqual(opBudget);
    const payload = new Uint8Array(maxPayloadBytesFor(mtu, opBudget));
    const bytes = encodeFrame(
      frame({
        stream: 's'.repeat(48),
        pseq: 0xffffffff,
        seq: 0xffffffff,
        index: 1023,
        count: 1024,
        op,
        payload,
      }),
    );
    expect(bytes.byteLength).toBeLessThanOrEqual(mtu);
    expect(frameHeaderBudgetBytes(opBudget)).toBeLessThan(mtu);
  });

  it('limits stream ids to 48 UTF-8 bytes, not 48 characters', () => {
    expect(isValidStreamId('s'.repeat(48))).toBe(true);
    expect(isValidStreamId('s'.repeat(49))).toBe(false);
    expect(isValidStreamId('€'.repeat(16))).toBe(true); // 3 bytes each: 48
    expect(isValidStreamId('€'.repeat(17))).toBe(false);
    expect(isValidStreamId(`private:${'é'.repeat(20)}`)).toBe(true); // 8 + 40 bytes
    expect(isValidStreamId(`private:${'é'.repeat(21)}`)).toBe(false);
    expect(isValidStreamId('')).toBe(false);
    expect(isValidStreamId(7)).toBe(false);
  });

  it('rejects bad fields on encode with TypeError', () => {
    expect(() => encodeFrame(frame({ index: 3 }))).toThrow(TypeError);
    expect(() => encodeFrame(frame({ seq: -1 }))).toThrow(TypeError);
    expect(() => encodeFrame(frame({ stream: '' }))).toThrow(TypeError);
    expect(() => encodeFrame(frame({ captureTsMs: Number.NaN }))).toThrow(TypeError);
  });

  it('names the first bad field of a decoded frame', () => {
    const good = [1, 'public', 1, 2, 0, 1, 5, {}, new Uint8Array(1)];
    const withField = (i: number, v: unknown) => packValue(good.map((x, j) => (j === i ? v : x)));
    expect(decodeOrField(packValue(good))).toBe('ok');
    expect(decodeOrField(withField(0, 2))).toBe('version');
    expect(decodeOrField(withField(1, 7))).toBe('stream');
    expect(decodeOrField(withField(2, -1))).toBe('pseq');
    expect(decodeOrField(withField(3, 1.5))).toBe('seq');
    expect(decodeOrField(withField(4, 1))).toBe('index');
    expect(decodeOrField(withField(5, 0))).toBe('count');
    expect(decodeOrField(withField(6, 'now'))).toBe('captureTsMs');
    expect(decodeOrField(withField(7, [1]))).toBe('op');
    expect(decodeOrField(withField(8, 'text'))).toBe('payload');
    expect(decodeOrField(packValue(good.slice(0, 8)))).toBe('shape');
    expect(decodeOrField(new Uint8Array(0))).toBe('bytes');
    expect(decodeOrField(new Uint8Array([0xa5, 0x61]))).toBe('msgpack');
    const trailing = new Uint8Array([...packValue(good), 0]);
    expect(decodeOrField(trailing)).toBe('msgpack');
  });

  it('turns any random byte string into a frame or a MalformedFrameError (seeded fuzz)', () => {
    const rng = createRng(7);
    const valid = encodeFrame(frame());
    let rejected = 0;
    for (let i = 0; i < 5000; i++) {
      let bytes: Uint8Array;
      if (i % 2 === 0) {
        bytes = new Uint8Array(Math.floor(rng() * 64));
        for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rng() * 256);
      } else {
        bytes = valid.slice(0, 1 + Math.floor(rng() * valid.length));
        const flips = 1 + Math.floor(rng() * 4);
        for (let k = 0; k < flips; k++) bytes[Math.floor(rng() * bytes.length)] = Math.floor(rng() * 256);
      }
      if (decodeOrField(bytes) !== 'ok') rejected++;
    }
    expect(rejected).toBeGreaterThan(4500);
  });

  it('splits a payload into views of at most maxBytes', () => {
    const bytes = new Uint8Array(2500).map((_, i) => i & 0xff);
    const parts = splitPayload(bytes, 1000);
    expect(parts.map((p) => p.byteLength)).toEqual([1000, 1000, 500]);
    expect(parts[2]![0]).toBe(2000 & 0xff);
    expect(splitPayload(new Uint8Array(0), 10)).toHaveLength(1);
    expect(() => splitPayload(bytes, 0)).toThrow(TypeError);
  });
});
