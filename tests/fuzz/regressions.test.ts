/**
 * Failures the fuzz suite found, each pinned as a plain test (docs/SECURITY.md, "Fuzzing").
 */
import { depacketize, PACKET_HEADER_BYTES, parseSenderMessage, UnsupportedError } from '@m4sc/semantic-codec';
import { createNodeSemanticCodec } from '@m4sc/semantic-codec/node';
import { decodeControl, decodeFrame, MalformedFrameError } from '@m4sc/transport';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../../packages/semantic-codec/src/crc32.js';

const packr = new Packr({ useRecords: false, moreTypes: false });
/** A msgpack map whose keys shadow Object.prototype: `String()` of it throws a TypeError. */
const hostileMap = { toString: 1, valueOf: 1 };

describe('fuzz regressions: transport', () => {
  it('decodeFrame refuses a map as the wire version with MalformedFrameError, not a TypeError from String()', () => {
    const bytes = packr.pack([hostileMap, 'public', 0, 0, 0, 1, 0, {}, new Uint8Array(1)]);
    expect(() => decodeFrame(bytes)).toThrow(MalformedFrameError);
  });

  it('decodeControl refuses a map as the version or the kind with MalformedFrameError', () => {
    // The fuzzer's counterexample: [1, {toString: 1, valueOf: 1}, {}].
    const found = Uint8Array.from([
      147, 1, 222, 0, 2, 168, 116, 111, 83, 116, 114, 105, 110, 103, 1, 167, 118, 97, 108, 117, 101, 79, 102,
      1, 222, 0, 0,
    ]);
    expect(() => decodeControl(found)).toThrow(MalformedFrameError);
    expect(() => decodeControl(packr.pack([hostileMap, 0, {}]))).toThrow(MalformedFrameError);
  });
});

describe('fuzz regressions: semantic session (control channel)', () => {
  const hello = {
    t: 'hello',
    codec: 'semantic',
    bundle: { name: 'default', version: '0.1.0' },
    modality: 'image',
    fps: 15,
    source: 'synthetic',
  };
  const serve = {
    t: 'serve',
    ref: 1,
    ik: 'k',
    instruction: { task: 'caption', modality: 'image', output: 'text', query: '' },
    stream: 'private:r1',
    members: 1,
  };

  it('parseSenderMessage still accepts what the sender sends', () => {
    expect(parseSenderMessage(hello)).toBeDefined();
    expect(parseSenderMessage(serve)).toBeDefined();
    expect(parseSenderMessage({ t: 'error', code: 'bad-message', message: 'x' })).toBeDefined();
    expect(parseSenderMessage({ t: 'relay-layers', n: 2 })).toBeDefined();
    for (const n of [0, 17, 1.5, Number.NaN, '2', undefined])
      expect(parseSenderMessage({ t: 'relay-layers', n }), String(n)).toBeUndefined();
    expect(parseSenderMessage({ t: 'error', ref: 3, code: 'unknown-task', message: 'x' })).toBeDefined();
  });

  // m4sc-recv prints hello.source/fps and the bundle's name/version (and serve.members) in template
  // strings inside rxjs handlers: a map there threw a TypeError that rxjs rethrows asynchronously, which
  // ends the receiver process. The guard now refuses such messages (counted as bad-control).
  it('parseSenderMessage refuses a hello whose printed fields are not primitives', () => {
    expect(parseSenderMessage({ ...hello, source: hostileMap })).toBeUndefined();
    expect(parseSenderMessage({ ...hello, fps: hostileMap })).toBeUndefined();
    expect(parseSenderMessage({ ...hello, fps: Number.NaN })).toBeUndefined();
    expect(parseSenderMessage({ ...hello, bundle: { name: hostileMap, version: '1' } })).toBeUndefined();
    expect(parseSenderMessage({ ...hello, bundle: 5 })).toBeUndefined();
  });

  it('parseSenderMessage refuses a serve without integer ref/members or string output, and an error with a non-integer ref', () => {
    expect(parseSenderMessage({ ...serve, members: hostileMap })).toBeUndefined();
    expect(parseSenderMessage({ ...serve, ref: '1' })).toBeUndefined();
    expect(
      parseSenderMessage({ ...serve, instruction: { ...serve.instruction, output: 3 } }),
    ).toBeUndefined();
    expect(parseSenderMessage({ t: 'error', ref: hostileMap, code: 'x', message: 'y' })).toBeUndefined();
  });
});

/** One packet of `count` claiming T tokens at rate 1 (C = 16): 25 bytes, a valid CRC. */
function claimTokens(T: number, gridWidth: number): Uint8Array {
  const p = new Uint8Array(PACKET_HEADER_BYTES + 1);
  const v = new DataView(p.buffer);
  p[0] = 0x4d;
  p[1] = 1;
  p[2] = 8;
  v.setUint16(4, T, true);
  v.setUint16(6, 16, true);
  v.setUint16(8, 1, true);
  v.setUint16(10, gridWidth, true);
  v.setUint16(12, 0, true);
  v.setUint16(14, T, true);
  v.setFloat32(16, 1, true);
  v.setUint32(20, crc32(p.subarray(PACKET_HEADER_BYTES), crc32(p.subarray(0, 20))), true);
  return p;
}

describe('fuzz regressions: semantic codec decode path', () => {
  // Before: one such packet made the receiver decode T tokens through the attention layers, T² memory:
  // T = 8192 text took 12 s and 3.6 GB, T = 16384 image 23 s and 9 GB (64 KiB tokens failed with a 68 GB
  // allocation). decodeSample now refuses more tokens than the bundle's text.maxLen / MAX_DECODE_IMAGE_TOKENS.
  it('decodeSample refuses a 25-byte packet that claims more tokens than the bundle decodes', async () => {
    const codec = await createNodeSemanticCodec({
      bundleDir: new URL('../../models/default', import.meta.url).pathname,
    });
    try {
      const op = codec.operatingPoints[0]!;
      const t0 = performance.now();
      await expect(
        codec.decodeSample({ stream: 'public', modality: 'text', packets: [claimTokens(1024, 0)], op }),
      ).rejects.toThrow(UnsupportedError);
      await expect(
        codec.decodeSample({ stream: 'public', modality: 'image', packets: [claimTokens(65 * 64, 64)], op }),
      ).rejects.toThrow(UnsupportedError);
      expect(performance.now() - t0).toBeLessThan(1000);
      // Within the bounds it still decodes (with the rest of the symbols erased).
      const ok = await codec.decodeSample({
        stream: 'public',
        modality: 'image',
        packets: [claimTokens(64, 8)],
        op,
      });
      expect(ok.kind).toBe('image');
    } finally {
      await codec.close();
    }
  });

  it('depacketize refuses an expected shape that is not a uint16 with TypeError, not RangeError', () => {
    // decodeSample's `grid` [134217729, 2] gave T = 2^28 + 2: an all-lost result of T·C floats.
    expect(() => depacketize([], { T: 134217729 * 2, C: 16 })).toThrow(TypeError);
    expect(() => depacketize([], { T: 1.5, C: 16 })).toThrow(TypeError);
    expect(() => depacketize([], { T: 4, C: Number.NaN })).toThrow(TypeError);
    expect(depacketize([], { T: 4, C: 16 }).symbols.length).toBe(64);
  });
});
