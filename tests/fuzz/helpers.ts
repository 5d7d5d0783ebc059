/**
 * Shared pieces of the fuzz suite: fixed seeds, bounded case counts, a time bound per case, a heap
 * measurement after a forced GC, and generators of hostile values (NaN, ±Infinity, huge numbers, deep
 * nesting, wrong types).
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import fc from 'fast-check';

/** Every property runs with a fixed seed, so a failure reproduces; the counts keep the suite under ~60 s on 2 shared cores. */
export const SEED = 0x4d345343; // 'M4SC'

/** fast-check parameters for `numRuns` cases with the suite's seed (no shrinking budget beyond the default). */
export function fcParams(numRuns: number, seedOffset = 0): fc.Parameters<unknown> {
  return { seed: SEED + seedOffset, numRuns, endOnFailure: false, verbose: 1 };
}

/**
 * A garbage collector for the heap checks. Vitest runs this file without `--expose-gc`, so the flag is
 * set at run time and `gc` taken from a fresh context (V8 exposes it to contexts created afterwards).
 */
export function getGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as (() => void) | undefined;
  if (typeof gc !== 'function') throw new Error('cannot obtain gc()');
  return gc;
}

/** heapUsed after two full collections, bytes. */
export async function heapAfterGc(gc: () => void): Promise<number> {
  gc();
  await new Promise((r) => setImmediate(r));
  gc();
  return process.memoryUsage().heapUsed;
}

/** Rejects if `p` takes longer than `ms`: a hang is a failure, not a slow test. */
export async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Numbers a remote peer can put in any numeric field: edge cases first, then any double. */
export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    -1,
    1,
    0.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER + 2,
    2 ** 31,
    2 ** 32,
    2 ** 32 - 1,
    2 ** 53,
    -(2 ** 31),
    65535,
    65536,
    1e300,
  ),
  fc.integer(),
  fc.double(),
);

/** Values of the wrong type for any field. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileNumber,
  fc.string({ maxLength: 40 }),
  fc.constantFrom(null, undefined, true, false, '', 'x'.repeat(70_000), [], {}),
  fc.uint8Array({ maxLength: 64 }),
  fc.array(fc.integer(), { maxLength: 8 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.integer(), { maxKeys: 4 }),
  fc.constantFrom({ toString: 1, valueOf: 1 }, { __proto__: null }, { constructor: 1 }),
);

/** `depth` nested arrays around a value: deep nesting for parsers and validators. */
export function nested(depth: number, inner: unknown = 0, asObject = false): unknown {
  let v: unknown = inner;
  for (let i = 0; i < depth; i++) v = asObject ? { a: v } : [v];
  return v;
}

/** msgpack bytes of `depth` nested fixarrays of one element, built by hand (no recursion in the encoder). */
export function deepMsgpack(depth: number): Uint8Array {
  const b = new Uint8Array(depth + 1).fill(0x91);
  b[depth] = 0xc0;
  return b;
}

/** msgpack headers that announce a huge container or string and then end: array32, map32, str32, bin32. */
export const HUGE_LENGTH_MSGPACK: readonly Uint8Array[] = [
  Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff),
  Uint8Array.of(0xdf, 0xff, 0xff, 0xff, 0xff),
  Uint8Array.of(0xdb, 0xff, 0xff, 0xff, 0xff, 0x61),
  Uint8Array.of(0xc6, 0xff, 0xff, 0xff, 0xff, 0x00),
  Uint8Array.of(0x99, 0x01, 0xc6, 0x7f, 0xff, 0xff, 0xff),
];

/** Byte-level mutations of a valid message: flips, truncation, extension, splices. */
export function mutateBytes(base: Uint8Array): fc.Arbitrary<Uint8Array> {
  const flip = fc
    .array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 })
    .map((edits) => {
      const b = base.slice();
      if (b.length === 0) return b;
      for (const [at, v] of edits) b[at % b.length] = v;
      return b;
    });
  const truncate = fc.nat({ max: Math.max(0, base.length - 1) }).map((n) => base.slice(0, n));
  const extend = fc.uint8Array({ minLength: 1, maxLength: 32 }).map((tail) => {
    const b = new Uint8Array(base.length + tail.length);
    b.set(base);
    b.set(tail, base.length);
    return b;
  });
  const splice = fc.tuple(fc.nat(), fc.uint8Array({ maxLength: 16 })).map(([at, ins]) => {
    const i = base.length === 0 ? 0 : at % base.length;
    const b = new Uint8Array(base.length + ins.length);
    b.set(base.subarray(0, i));
    b.set(ins, i);
    b.set(base.subarray(i), i + ins.length);
    return b;
  });
  return fc.oneof(flip, truncate, extend, splice);
}
