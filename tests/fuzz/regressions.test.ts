/**
 * Failures the fuzz suite found, each pinned as a plain test (docs/SECURITY.md, "Fuzzing").
 */
import { parseSenderMessage } from '@m4sc/semantic-codec';
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
