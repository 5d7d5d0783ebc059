/**
 * Uniform symmetric scalar quantiser with one scale per call (per packet, in the packet format).
 *
 * - bits 2..16: mid-tread, L = 2^(bits-1) − 1 levels each side of zero, scale = max|x| / L (or
 *   min(max|x|, clipRms·rms) / L with `clipRms`), code = round(x / scale) clamped to [−L, L], stored as
 *   code + L in `bits` bits. Zero is exact; 2 bits gives {−s, 0, s}.
 * - bits 1: sign quantiser, ±scale with scale = mean|x| (the MSE-optimal scale for sign quantisation).
 * - bits 32: no quantisation, raw little-endian float32 (scale is 1).
 *
 * Codes are packed LSB-first into bytes, so 4-bit codes go two per byte (first value in the low nibble).
 * Non-finite input (NaN, ±Infinity) is refused with a TypeError: the channel encoder never produces it,
 * so it means a bug upstream, and sanitising would hide it.
 */
import { UnsupportedError } from './errors.js';

/** A quantised vector. `scale` is exactly representable as float32 (it travels as one). */
export interface Quantised {
  readonly bits: number;
  readonly scale: number;
  readonly count: number;
  readonly codes: Uint8Array;
}

export interface QuantiseOptions {
  /** Clip at this many RMS before setting the scale; default none (max-abs scale). */
  clipRms?: number;
}

/** Whether `bits` is a supported width: 1..16 or 32. */
export function isSupportedBits(bits: number): boolean {
  return Number.isInteger(bits) && ((bits >= 1 && bits <= 16) || bits === 32);
}

function checkBits(bits: number): void {
  if (typeof bits !== 'number' || !Number.isInteger(bits))
    throw new TypeError(`bits must be an integer, got ${bits}`);
  if (!isSupportedBits(bits)) throw new UnsupportedError(`bits=${bits} is not supported (1..16 or 32)`);
}

/** Bytes taken by `count` packed codes of `bits` bits. */
export function packedBytes(count: number, bits: number): number {
  checkBits(bits);
  return Math.ceil((count * bits) / 8);
}

/** Quantises `values` to `bits` bits. Throws TypeError on a non-finite value, naming its index. */
export function quantise(values: ArrayLike<number>, bits: number, options: QuantiseOptions = {}): Quantised {
  checkBits(bits);
  const n = values.length;
  let maxAbs = 0;
  let sumAbs = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw new TypeError(`symbol ${i} is not finite (${v})`);
    const a = Math.abs(v);
    if (a > maxAbs) maxAbs = a;
    sumAbs += a;
    sumSq += v * v;
  }
  const codes = new Uint8Array(packedBytes(n, bits));
  if (bits === 32) {
    const view = new DataView(codes.buffer);
    for (let i = 0; i < n; i++) view.setFloat32(4 * i, values[i]!, true);
    return { bits, scale: 1, count: n, codes };
  }
  if (bits === 1) {
    const scale = Math.fround(n > 0 ? sumAbs / n : 0);
    for (let i = 0; i < n; i++) if (values[i]! >= 0) codes[i >> 3]! |= 1 << (i & 7);
    return { bits, scale, count: n, codes };
  }
  const levels = 2 ** (bits - 1) - 1;
  let range = maxAbs;
  if (options.clipRms !== undefined) {
    if (!(options.clipRms > 0)) throw new TypeError(`clipRms must be positive, got ${options.clipRms}`);
    range = Math.min(maxAbs, options.clipRms * Math.sqrt(n > 0 ? sumSq / n : 0));
  }
  const scale = Math.fround(range / levels);
  const inv = scale > 0 ? 1 / scale : 0;
  let bitPos = 0;
  for (let i = 0; i < n; i++) {
    let q = Math.round(values[i]! * inv);
    if (q > levels) q = levels;
    else if (q < -levels) q = -levels;
    writeBits(codes, bitPos, bits, q + levels);
    bitPos += bits;
  }
  return { bits, scale, count: n, codes };
}

/** Inverse of `quantise`. Throws TypeError if `codes` is too short for `count`. */
export function dequantise(q: Quantised): Float32Array {
  const { bits, scale, count, codes } = q;
  checkBits(bits);
  if (!Number.isInteger(count) || count < 0)
    throw new TypeError(`count must be a non-negative integer, got ${count}`);
  if (codes.length < packedBytes(count, bits)) {
    throw new TypeError(
      `codes hold ${codes.length} bytes, ${packedBytes(count, bits)} needed for ${count} symbols`,
    );
  }
  const out = new Float32Array(count);
  if (bits === 32) {
    const view = new DataView(codes.buffer, codes.byteOffset, codes.byteLength);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
    return out;
  }
  if (bits === 1) {
    for (let i = 0; i < count; i++) out[i] = (codes[i >> 3]! >> (i & 7)) & 1 ? scale : -scale;
    return out;
  }
  const levels = 2 ** (bits - 1) - 1;
  let bitPos = 0;
  for (let i = 0; i < count; i++) {
    // A corrupted code can read as 2L+1 (all ones); clamp so output stays within ±L·scale.
    const q = Math.min(readBits(codes, bitPos, bits), 2 * levels) - levels;
    out[i] = q * scale;
    bitPos += bits;
  }
  return out;
}

function writeBits(buf: Uint8Array, bitPos: number, width: number, value: number): void {
  let pos = bitPos;
  let v = value;
  let left = width;
  while (left > 0) {
    const byte = pos >> 3;
    const off = pos & 7;
    const take = Math.min(8 - off, left);
    buf[byte]! |= (v & ((1 << take) - 1)) << off;
    v >>>= take;
    pos += take;
    left -= take;
  }
}

function readBits(buf: Uint8Array, bitPos: number, width: number): number {
  let pos = bitPos;
  let left = width;
  let value = 0;
  let shift = 0;
  while (left > 0) {
    const byte = pos >> 3;
    const off = pos & 7;
    const take = Math.min(8 - off, left);
    value |= ((buf[byte]! >> off) & ((1 << take) - 1)) << shift;
    shift += take;
    pos += take;
    left -= take;
  }
  return value;
}
