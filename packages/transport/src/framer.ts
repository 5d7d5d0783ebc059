import { Packr, Unpackr } from 'msgpackr';
import { MAX_PACKETS_PER_SAMPLE, MAX_SEQ, MAX_STREAM_ID_BYTES, WIRE_VERSION } from './defaults.js';
import { MalformedFrameError } from './errors.js';
import type { Frame, OperatingPoint } from './types.js';

// Plain msgpack (no records, no structured clone extensions) so browsers and other stacks can read the wire.
const packr = new Packr({ useRecords: false, moreTypes: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

const utf8 = new TextEncoder();

/**
 * A received value for an error message. `String()` throws on a msgpack map with a non-callable
 * `toString`/`valueOf` key (found by tests/fuzz), so maps and arrays are named, not converted.
 */
export function describeWireValue(v: unknown): string {
  if (typeof v === 'object' && v !== null) return Array.isArray(v) ? 'an array' : 'a map or binary';
  return String(v).slice(0, 64);
}

/** Number of fields in a frame array: [version, stream, pseq, seq, index, count, captureTsMs, op, payload]. */
const FRAME_FIELDS = 9;

/** msgpack-encodes a value (plain msgpack: maps, arrays, strings, numbers, booleans, null, binary). */
export function packValue(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Decodes one msgpack value; any failure (truncated, trailing bytes, bad tags) is a MalformedFrameError. */
export function unpackValue(bytes: Uint8Array): unknown {
  if (!(bytes instanceof Uint8Array)) throw new MalformedFrameError('bytes', 'message is not binary');
  if (bytes.byteLength === 0) throw new MalformedFrameError('bytes', 'message is empty');
  try {
    return unpackr.unpack(bytes);
  } catch (cause) {
    throw new MalformedFrameError('msgpack', 'message is not valid msgpack', { cause });
  }
}

const isUint = (v: unknown, max: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;

/** True for a plain object (a msgpack map), not an array, binary, date or null. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || ArrayBuffer.isView(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Checks a stream id: a non-empty string of at most 48 UTF-8 bytes. */
export function isValidStreamId(stream: unknown): stream is string {
  if (typeof stream !== 'string' || stream.length === 0) return false;
  // A UTF-16 code unit is at most 3 UTF-8 bytes: short ids (every frame's `public`, `private:<id>`) need no
  // encoding, which would allocate once per frame on the send and receive paths.
  if (stream.length * 3 <= MAX_STREAM_ID_BYTES) return true;
  return stream.length <= MAX_STREAM_ID_BYTES && utf8.encode(stream).byteLength <= MAX_STREAM_ID_BYTES;
}

/**
 * Encodes one frame for an unreliable channel. The fields are checked; a bad one is a TypeError
 * (the caller passed it). The result is a msgpack array, see the README's wire table.
 */
export function encodeFrame(frame: Frame): Uint8Array {
  if (!isValidStreamId(frame.stream))
    throw new TypeError(`frame stream id is invalid: ${String(frame.stream)}`);
  if (!isUint(frame.pseq, MAX_SEQ)) throw new TypeError(`frame pseq must be a uint32, got ${frame.pseq}`);
  if (!isUint(frame.seq, MAX_SEQ)) throw new TypeError(`frame seq must be a uint32, got ${frame.seq}`);
  if (!isUint(frame.count, MAX_PACKETS_PER_SAMPLE) || frame.count < 1) {
    throw new TypeError(`frame count must be 1..${MAX_PACKETS_PER_SAMPLE}, got ${frame.count}`);
  }
  if (!isUint(frame.index, frame.count - 1)) {
    throw new TypeError(`frame index must be 0..${frame.count - 1}, got ${frame.index}`);
  }
  if (
    !(typeof frame.captureTsMs === 'number' && Number.isFinite(frame.captureTsMs) && frame.captureTsMs >= 0)
  ) {
    throw new TypeError(`frame captureTsMs must be a finite non-negative number, got ${frame.captureTsMs}`);
  }
  if (!isPlainObject(frame.op)) throw new TypeError('frame op must be a plain object');
  if (!(frame.payload instanceof Uint8Array)) throw new TypeError('frame payload must be a Uint8Array');
  return packr.pack([
    WIRE_VERSION,
    frame.stream,
    frame.pseq,
    frame.seq,
    frame.index,
    frame.count,
    frame.captureTsMs,
    frame.op,
    frame.payload,
  ]);
}

/**
 * Decodes and validates one message from an unreliable channel. Any byte string that is not a valid
 * frame throws a MalformedFrameError naming the first bad field; nothing else is ever thrown.
 */
export function decodeFrame(bytes: Uint8Array): Frame {
  const v = unpackValue(bytes);
  if (!Array.isArray(v) || v.length !== FRAME_FIELDS) {
    throw new MalformedFrameError('shape', `frame must be a ${FRAME_FIELDS}-element array`);
  }
  const [version, stream, pseq, seq, index, count, captureTsMs, op, payload] = v as unknown[];
  if (version !== WIRE_VERSION)
    throw new MalformedFrameError('version', `unsupported wire version ${describeWireValue(version)}`);
  if (!isValidStreamId(stream))
    throw new MalformedFrameError('stream', 'stream id is not a 1..48 byte string');
  if (!isUint(pseq, MAX_SEQ)) throw new MalformedFrameError('pseq', 'pseq is not a uint32');
  if (!isUint(seq, MAX_SEQ)) throw new MalformedFrameError('seq', 'seq is not a uint32');
  if (!isUint(count, MAX_PACKETS_PER_SAMPLE) || count < 1) {
    throw new MalformedFrameError('count', `count is not 1..${MAX_PACKETS_PER_SAMPLE}`);
  }
  if (!isUint(index, count - 1)) throw new MalformedFrameError('index', 'index is not below count');
  if (typeof captureTsMs !== 'number' || !Number.isFinite(captureTsMs) || captureTsMs < 0) {
    throw new MalformedFrameError('captureTsMs', 'capture timestamp is not a finite non-negative number');
  }
  if (!isPlainObject(op)) throw new MalformedFrameError('op', 'operating point is not a map');
  if (!(payload instanceof Uint8Array)) throw new MalformedFrameError('payload', 'payload is not binary');
  return { stream, pseq, seq, index, count, captureTsMs, op: op as OperatingPoint, payload };
}

/**
 * Bytes a frame header can take at most, for a given op size budget: the msgpack array prefix, the version,
 * the stream id, five uint32/uint16 fields, a float64 timestamp, the op, and the binary header.
 */
export function frameHeaderBudgetBytes(opBudgetBytes: number): number {
  const array = 1;
  const version = 1;
  const stream = 2 + MAX_STREAM_ID_BYTES; // str8 header + bytes
  const pseq = 5;
  const seq = 5;
  const index = 3;
  const count = 3;
  const ts = 9;
  const bin = 3; // bin16 header: payloads stay under 64 KiB
  return array + version + stream + pseq + seq + index + count + ts + opBudgetBytes + bin;
}

/** Payload bytes one packet may carry so that its frame stays within `mtuBytes`. */
export function maxPayloadBytesFor(mtuBytes: number, opBudgetBytes: number): number {
  return mtuBytes - frameHeaderBudgetBytes(opBudgetBytes);
}

/**
 * Splits a payload into packets of at most `maxBytes` (views, no copy). An empty payload gives one empty
 * packet, so every sample has at least one.
 */
export function splitPayload(bytes: Uint8Array, maxBytes: number): Uint8Array[] {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('splitPayload: bytes must be a Uint8Array');
  if (!Number.isInteger(maxBytes) || maxBytes < 1) {
    throw new TypeError(`splitPayload: maxBytes must be a positive integer, got ${maxBytes}`);
  }
  if (bytes.byteLength === 0) return [bytes];
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.byteLength; at += maxBytes) {
    out.push(bytes.subarray(at, Math.min(at + maxBytes, bytes.byteLength)));
  }
  return out;
}
