/**
 * Failures the fuzz suite found, each pinned as a plain test (docs/SECURITY.md, "Fuzzing").
 */
import { decodeControl, decodeFrame, MalformedFrameError } from '@m4sc/transport';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';

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
