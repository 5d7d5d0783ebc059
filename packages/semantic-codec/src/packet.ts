/**
 * The symbol packet format: a sample's symbols, cut to a rate prefix, quantised, interleaved across packets.
 *
 * Symbols are [T, C] flattened symbol-major (index c·T + t, the bundle contract's rate-adaptive order). A
 * rate of r symbols per token keeps the prefix of length n = r·T. Position j < n goes to packet j mod N,
 * so one lost packet erases a spread of tokens and symbol ranks instead of a block. Each packet carries
 * its own scale (quantised with its own max-abs), so every packet decodes alone.
 *
 * Byte layout (little-endian), header 24 bytes, then the packed codes (see quantiser.ts):
 *
 * | offset | size | field                                                     |
 * | ------ | ---- | --------------------------------------------------------- |
 * | 0      | 1    | magic 0x4D ('M')                                          |
 * | 1      | 1    | format version (1)                                        |
 * | 2      | 1    | bits per symbol (1..16, 32)                               |
 * | 3      | 1    | flags, 0 (reserved)                                       |
 * | 4      | 2    | T, tokens                                                 |
 * | 6      | 2    | C, symbols per token at full rate                         |
 * | 8      | 2    | r, symbols per token kept (1 ≤ r ≤ C)                     |
 * | 10     | 2    | grid width for image tokens (T = h·w), 0 otherwise        |
 * | 12     | 2    | packet index i                                            |
 * | 14     | 2    | packet count N                                            |
 * | 16     | 4    | scale, float32                                            |
 * | 20     | 4    | CRC-32 of bytes 0..19 and the payload                     |
 * | 24     | …    | ceil(nᵢ·bits/8) bytes, nᵢ = #{ j < r·T : j mod N = i }    |
 */
import { crc32 } from './crc32.js';
import { DEFAULT_MAX_PACKET_BYTES } from './defaults.js';
import { PacketError, UnsupportedError } from './errors.js';
import { dequantise, isSupportedBits, packedBytes, quantise } from './quantiser.js';

export const PACKET_MAGIC = 0x4d;
export const PACKET_VERSION = 1;
export const PACKET_HEADER_BYTES = 24;
const U16_MAX = 0xffff;

/** What a packet's header says. */
export interface PacketHeader {
  readonly version: number;
  readonly bits: number;
  readonly T: number;
  readonly C: number;
  readonly rateSymbols: number;
  readonly gridWidth: number;
  readonly index: number;
  readonly count: number;
  readonly scale: number;
}

export interface PacketizeOptions {
  /** Tokens (required). */
  T: number;
  /** Symbols per token at full rate (required). */
  C: number;
  /** Symbols per token kept, 1..C; default C. */
  rateSymbols?: number;
  /** Bits per symbol (1..16, 32); required. */
  bits: number;
  /** Largest packet in bytes, header included; default `DEFAULT_MAX_PACKET_BYTES`. */
  maxPacketBytes?: number;
  /** Spread over at least this many packets (more erasure diversity); default 1. */
  minPackets?: number;
  /** Image token grid width (T = h·w), carried for the receiver; default 0 (not an image). */
  gridWidth?: number;
  /** Quantiser clipping, in RMS; default none. */
  clipRms?: number;
}

/** Depacketised symbols: `mask` is 1 where a symbol arrived, 0 where lost or beyond the rate prefix. */
export interface DepacketizeResult {
  readonly symbols: Float32Array;
  readonly mask: Float32Array;
  readonly T: number;
  readonly C: number;
  readonly rateSymbols: number;
  readonly bits: number;
  readonly gridWidth: number;
  /** Packets in the sample (from the headers). */
  readonly packetCount: number;
  /** Distinct packets decoded. */
  readonly received: number;
  /** Packets refused (garbage, truncated, inconsistent or duplicate), with why. */
  readonly errors: readonly PacketError[];
}

export interface DepacketizeOptions {
  /** Expected shape; required to get an all-lost result when no packet survives. */
  T?: number;
  C?: number;
}

function checkU16(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > U16_MAX) {
    throw new TypeError(`${name} must be an integer in [${min}, ${U16_MAX}], got ${v}`);
  }
  return v;
}

/** Symbols of packet i among n positions spread over N packets. */
function countIn(i: number, n: number, N: number): number {
  return i < n ? Math.floor((n - 1 - i) / N) + 1 : 0;
}

/** Packets needed for n symbols of `bits` bits under `maxPacketBytes`. */
export function packetCountFor(n: number, bits: number, maxPacketBytes: number, minPackets = 1): number {
  const perPacket = Math.floor(((maxPacketBytes - PACKET_HEADER_BYTES) * 8) / bits);
  if (perPacket < 1) {
    throw new TypeError(
      `maxPacketBytes=${maxPacketBytes} leaves no room for a ${bits}-bit symbol after the header`,
    );
  }
  return Math.min(Math.max(minPackets, Math.ceil(n / perPacket)), Math.max(n, 1));
}

/** Cuts, quantises and interleaves symbols into packets. Throws TypeError on bad arguments or NaN. */
export function packetize(symbols: Float32Array, options: PacketizeOptions): Uint8Array[] {
  if (!(symbols instanceof Float32Array)) throw new TypeError('symbols must be a Float32Array');
  const T = checkU16('T', options.T, 1);
  const C = checkU16('C', options.C, 1);
  const r = checkU16('rateSymbols', options.rateSymbols ?? C, 1);
  if (r > C) throw new TypeError(`rateSymbols=${r} exceeds C=${C}`);
  const bits = options.bits;
  if (typeof bits !== 'number' || !Number.isInteger(bits))
    throw new TypeError(`bits must be an integer, got ${bits}`);
  if (!isSupportedBits(bits)) throw new UnsupportedError(`bits=${bits} is not supported (1..16, 32)`);
  const gridWidth = checkU16('gridWidth', options.gridWidth ?? 0, 0);
  if (gridWidth > 0 && T % gridWidth !== 0)
    throw new TypeError(`T=${T} is not a multiple of gridWidth=${gridWidth}`);
  if (symbols.length !== T * C)
    throw new TypeError(`symbols has ${symbols.length} values, expected T·C = ${T * C}`);
  const maxPacketBytes = options.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;
  if (!Number.isInteger(maxPacketBytes))
    throw new TypeError(`maxPacketBytes must be an integer, got ${maxPacketBytes}`);
  const minPackets = checkU16('minPackets', options.minPackets ?? 1, 1);
  const n = r * T;
  const N = packetCountFor(n, bits, maxPacketBytes, minPackets);
  if (N > U16_MAX) throw new TypeError(`${N} packets needed; at most ${U16_MAX}`);
  const packets: Uint8Array[] = [];
  for (let i = 0; i < N; i++) {
    const m = countIn(i, n, N);
    const values = new Float32Array(m);
    for (let k = 0; k < m; k++) values[k] = symbols[i + k * N]!;
    const q = quantise(values, bits, options.clipRms === undefined ? {} : { clipRms: options.clipRms });
    const pkt = new Uint8Array(PACKET_HEADER_BYTES + q.codes.length);
    const view = new DataView(pkt.buffer);
    pkt[0] = PACKET_MAGIC;
    pkt[1] = PACKET_VERSION;
    pkt[2] = bits;
    pkt[3] = 0;
    view.setUint16(4, T, true);
    view.setUint16(6, C, true);
    view.setUint16(8, r, true);
    view.setUint16(10, gridWidth, true);
    view.setUint16(12, i, true);
    view.setUint16(14, N, true);
    view.setFloat32(16, q.scale, true);
    pkt.set(q.codes, PACKET_HEADER_BYTES);
    view.setUint32(20, packetCrc(pkt), true);
    packets.push(pkt);
  }
  return packets;
}

function packetCrc(pkt: Uint8Array): number {
  return crc32(pkt.subarray(PACKET_HEADER_BYTES), crc32(pkt.subarray(0, 20)));
}

/** Parses and checks one packet. Throws PacketError (never anything else) on any byte string. */
export function parsePacket(bytes: Uint8Array): { header: PacketHeader; values: Float32Array } {
  if (!(bytes instanceof Uint8Array)) throw new PacketError('header', 'packet is not a Uint8Array');
  if (bytes.length < PACKET_HEADER_BYTES) {
    throw new PacketError(
      'truncated',
      `packet of ${bytes.length} bytes is shorter than the ${PACKET_HEADER_BYTES}-byte header`,
    );
  }
  if (bytes[0] !== PACKET_MAGIC) throw new PacketError('magic', `bad magic byte 0x${bytes[0]!.toString(16)}`);
  if (bytes[1] !== PACKET_VERSION) throw new PacketError('version', `unsupported packet version ${bytes[1]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header: PacketHeader = {
    version: bytes[1]!,
    bits: bytes[2]!,
    T: view.getUint16(4, true),
    C: view.getUint16(6, true),
    rateSymbols: view.getUint16(8, true),
    gridWidth: view.getUint16(10, true),
    index: view.getUint16(12, true),
    count: view.getUint16(14, true),
    scale: view.getFloat32(16, true),
  };
  const { bits, T, C, rateSymbols: r, gridWidth, index, count, scale } = header;
  const n = r * T;
  if (
    !isSupportedBits(bits) ||
    T < 1 ||
    C < 1 ||
    r < 1 ||
    r > C ||
    (gridWidth > 0 && T % gridWidth !== 0) ||
    count < 1 ||
    count > n ||
    index >= count ||
    !Number.isFinite(scale) ||
    scale < 0 ||
    bytes[3] !== 0
  ) {
    throw new PacketError('header', `invalid header ${JSON.stringify(header)}`);
  }
  const m = countIn(index, n, count);
  const need = PACKET_HEADER_BYTES + packedBytes(m, bits);
  if (bytes.length < need)
    throw new PacketError('truncated', `packet ${index} has ${bytes.length} bytes, needs ${need}`);
  if (bytes.length > need)
    throw new PacketError('header', `packet ${index} has ${bytes.length} bytes, expected ${need}`);
  if (view.getUint32(20, true) !== packetCrc(bytes))
    throw new PacketError('checksum', `packet ${index} fails its CRC-32`);
  const values = dequantise({ bits, scale, count: m, codes: bytes.subarray(PACKET_HEADER_BYTES) });
  if (bits === 32 && values.some((v) => !Number.isFinite(v))) {
    throw new PacketError('header', `packet ${index} carries non-finite float32 symbols`);
  }
  return { header, values };
}

/**
 * Reassembles symbols from the packets of one sample, in any order, with holes (`undefined`/`null`) for
 * lost ones. Bad packets are skipped and reported in `errors`; their symbols are marked lost. Throws
 * PacketError('empty') only when no packet survives and no expected shape was given.
 */
export function depacketize(
  packets: readonly (Uint8Array | undefined | null)[],
  options: DepacketizeOptions = {},
): DepacketizeResult {
  if (!Array.isArray(packets)) throw new TypeError('packets must be an array');
  // The expected shape sizes the all-lost result: a non-integer or huge one is a bad argument, not a RangeError.
  if (options.T !== undefined) checkU16('T', options.T, 1);
  if (options.C !== undefined) checkU16('C', options.C, 1);
  const errors: PacketError[] = [];
  let ref: PacketHeader | undefined;
  let symbols: Float32Array | undefined;
  let mask: Float32Array | undefined;
  const seen = new Set<number>();
  for (const pkt of packets) {
    if (pkt === undefined || pkt === null) continue;
    let parsed: { header: PacketHeader; values: Float32Array };
    try {
      parsed = parsePacket(pkt);
    } catch (e) {
      errors.push(e instanceof PacketError ? e : new PacketError('header', String(e)));
      continue;
    }
    const h = parsed.header;
    if (
      (options.T !== undefined && h.T !== options.T) ||
      (options.C !== undefined && h.C !== options.C) ||
      (ref !== undefined &&
        (h.T !== ref.T ||
          h.C !== ref.C ||
          h.rateSymbols !== ref.rateSymbols ||
          h.bits !== ref.bits ||
          h.count !== ref.count ||
          h.gridWidth !== ref.gridWidth))
    ) {
      errors.push(
        new PacketError('inconsistent', `packet ${h.index} does not belong with the others of this sample`),
      );
      continue;
    }
    if (seen.has(h.index)) {
      errors.push(new PacketError('inconsistent', `duplicate packet ${h.index}`));
      continue;
    }
    seen.add(h.index);
    if (ref === undefined) {
      ref = h;
      symbols = new Float32Array(h.T * h.C);
      mask = new Float32Array(h.T * h.C);
    }
    const v = parsed.values;
    for (let k = 0; k < v.length; k++) {
      const j = h.index + k * h.count;
      symbols![j] = v[k]!;
      mask![j] = 1;
    }
  }
  if (ref === undefined) {
    if (options.T === undefined || options.C === undefined) {
      throw new PacketError('empty', 'no valid packet in the sample and no expected shape given');
    }
    const size = options.T * options.C;
    return {
      symbols: new Float32Array(size),
      mask: new Float32Array(size),
      T: options.T,
      C: options.C,
      rateSymbols: 0,
      bits: 0,
      gridWidth: 0,
      packetCount: 0,
      received: 0,
      errors,
    };
  }
  return {
    symbols: symbols!,
    mask: mask!,
    T: ref.T,
    C: ref.C,
    rateSymbols: ref.rateSymbols,
    bits: ref.bits,
    gridWidth: ref.gridWidth,
    packetCount: ref.count,
    received: seen.size,
    errors,
  };
}
