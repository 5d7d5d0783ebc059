/**
 * The symbol packet format: a sample's symbols, cut to a rate prefix, quantised, interleaved across packets.
 *
 * Symbols are [T, C] flattened symbol-major (index c·T + t, the bundle contract's rate-adaptive order). A
 * rate of r symbols per token keeps the prefix of length n = r·T. Slot s < n goes to packet s mod N, and slot
 * s of rank c = ⌊s/T⌋ holds token t = (s − c·T + c·δ) mod T, δ = (T − 1) mod N (`slotPosition`): token t's rank c
 * travels in packet (t + c) mod N, so one lost packet erases 1/N of every token's ranks, not whole tokens and
 * not a block. Each packet carries its own scale (quantised with its own max-abs), so every packet decodes
 * alone.
 *
 * Byte layout (little-endian), header 24 bytes, then the packed codes (see quantiser.ts):
 *
 * | offset | size | field                                                     |
 * | ------ | ---- | --------------------------------------------------------- |
 * | 0      | 1    | magic 0x4D ('M')                                          |
 * | 1      | 1    | format version (2; 1 is read: slot s = position s)        |
 * | 2      | 1    | bits per symbol (1..16, 32)                               |
 * | 3      | 1    | flags: bit 0 = a literal trailer follows; bit 1 = a gain  |
 * |        |      | follows the header; others 0                              |
 * | 4      | 2    | T, tokens                                                 |
 * | 6      | 2    | C, symbols per token at full rate                         |
 * | 8      | 2    | r, symbols per token kept (1 ≤ r ≤ C)                     |
 * | 10     | 2    | grid width for image tokens (T = h·w), 0 otherwise        |
 * | 12     | 2    | packet index i                                            |
 * | 14     | 2    | packet count N                                            |
 * | 16     | 4    | scale, float32                                            |
 * | 20     | 4    | CRC-32 of bytes 0..19 and the payload                     |
 * | 24     | 4    | with flag bit 1: the frame's gain, float32 (below)        |
 * | 24/28  | …    | ceil(nᵢ·bits/8) bytes, nᵢ = #{ s < r·T : s mod N = i }    |
 * | …      | …    | with flag bit 0: the literal trailer (below)              |
 *
 * Gain (image samples of a bundle with `streams.image`): the scale a by which the sender brought the frame's
 * symbols to mean power 1 (imageCode.ts); the receiver's LMMSE divides by it. It is side information of 4 bytes
 * in every packet of the sample, so any one packet that arrives carries it; the CRC covers it.
 *
 * Parity packets (flag bit 2; `fec` in {@link PacketizeOptions}): a sample's N data packets may be followed by m
 * parity packets of a systematic Reed-Solomon code over the data packets' bytes (fec.ts), so that any N of the
 * N + m packets give every data packet back, bit for bit (each recovered packet still passes its CRC). Their
 * header shares bytes 0..3 and 20..23 with a data packet's (bits byte 0, flags 0x04):
 *
 * | offset | size | field                                                     |
 * | ------ | ---- | --------------------------------------------------------- |
 * | 4      | 2    | N, data packets                                           |
 * | 6      | 2    | m, parity packets                                         |
 * | 8      | 2    | parity index j (0 ≤ j < m)                                |
 * | 10     | 10   | zero                                                      |
 * | 24     | L    | parity bytes, L = the longest data packet                 |
 *
 * With parity, data packets are cut to `maxPacketBytes` − 24, so a parity packet fits `maxPacketBytes` too.
 *
 * Literal trailer (text samples): words the text vocabulary lacks, sent as UTF-8 beside the symbols so the
 * receiver puts them back at their token positions (the model alone can only say `<unk>` there). It is
 * `u8 n` (1..{@link MAX_LITERALS}), then n × (`u8 token index` < min(T, 256), `u8 length` 1..{@link MAX_LITERAL_BYTES},
 * the word's UTF-8 bytes). Every packet of the sample carries the same trailer, so any one that arrives
 * restores them all; the CRC covers it.
 */
import { crc32 } from './crc32.js';
import { DEFAULT_MAX_PACKET_BYTES, MAX_LITERAL_BYTES, MAX_LITERAL_TOKEN, MAX_LITERALS } from './defaults.js';
import { PacketError, UnsupportedError } from './errors.js';
import { fecDecode, fecEncode, MAX_FEC_SHARDS, parityFor } from './fec.js';
import { dequantise, isSupportedBits, packedBytes, quantise } from './quantiser.js';

export const PACKET_MAGIC = 0x4d;
export const PACKET_VERSION = 2;
/** Versions parsePacket accepts: 1 (the old interleave, see slotPosition) and the current one. */
export const PACKET_VERSIONS_READ: readonly number[] = [1, 2];
export const PACKET_HEADER_BYTES = 24;
const U16_MAX = 0xffff;
/** Flag bit 0 of byte 3: the packet ends with a literal trailer. */
const FLAG_LITERALS = 0x01;
/** Flag bit 1: a float32 frame gain follows the header. */
const FLAG_GAIN = 0x02;
/** Flag bit 2: a parity packet (the flags byte holds nothing else). */
const FLAG_PARITY = 0x04;
const GAIN_BYTES = 4;

/** A word sent as text beside the symbols: it belongs at token position `t`. */
export interface TextLiteral {
  readonly t: number;
  readonly word: string;
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** The trailer bytes of `literals` (empty: none). Throws TypeError on a bad literal. */
export function encodeLiterals(literals: readonly TextLiteral[], T: number): Uint8Array {
  if (!Array.isArray(literals)) throw new TypeError('literals must be an array');
  if (literals.length === 0) return new Uint8Array(0);
  if (literals.length > MAX_LITERALS)
    throw new TypeError(`${literals.length} literals; at most ${MAX_LITERALS} per sample`);
  const words = literals.map((l) => {
    if (typeof l !== 'object' || l === null || typeof l.word !== 'string')
      throw new TypeError('a literal must be { t, word }');
    const end = Math.min(T, MAX_LITERAL_TOKEN);
    if (!Number.isInteger(l.t) || l.t < 0 || l.t >= end)
      throw new TypeError(`literal position ${l.t} outside 0..${end - 1}`);
    const b = utf8.encode(l.word);
    if (b.length < 1 || b.length > MAX_LITERAL_BYTES)
      throw new TypeError(`literal '${l.word}' is ${b.length} bytes; 1..${MAX_LITERAL_BYTES} allowed`);
    return { t: l.t, b };
  });
  const out = new Uint8Array(1 + words.reduce((n, w) => n + 2 + w.b.length, 0));
  out[0] = words.length;
  let o = 1;
  for (const w of words) {
    out[o] = w.t;
    out[o + 1] = w.b.length;
    out.set(w.b, o + 2);
    o += 2 + w.b.length;
  }
  return out;
}

/** Parses a literal trailer that must span `bytes` exactly. Throws PacketError('header') if it is bad. */
function decodeLiterals(bytes: Uint8Array, T: number, index: number): TextLiteral[] {
  const bad = (why: string) => new PacketError('header', `packet ${index}: literal trailer ${why}`);
  const n = bytes[0] ?? 0;
  if (n < 1 || n > MAX_LITERALS) throw bad(`count ${n} outside 1..${MAX_LITERALS}`);
  const out: TextLiteral[] = [];
  let o = 1;
  for (let k = 0; k < n; k++) {
    if (o + 2 > bytes.length) throw bad('is truncated');
    const t = bytes[o]!;
    const len = bytes[o + 1]!;
    if (t >= T) throw bad(`names token ${t} of ${T}`);
    if (len < 1 || len > MAX_LITERAL_BYTES || o + 2 + len > bytes.length)
      throw bad(`has a word of bad length ${len}`);
    let word: string;
    try {
      word = utf8Strict.decode(bytes.subarray(o + 2, o + 2 + len));
    } catch {
      throw bad('has a word that is not UTF-8');
    }
    out.push({ t, word });
    o += 2 + len;
  }
  if (o !== bytes.length) throw bad(`has ${bytes.length - o} bytes past its end`);
  return out;
}

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
  /** The frame's gain (flag bit 1), when the packet carries one. */
  readonly gain?: number;
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
  /** Words to carry as text beside the symbols (text samples; see the literal trailer). Default none. */
  literals?: readonly TextLiteral[];
  /** The frame's gain, carried in every packet (image samples of a `streams.image` bundle). Default none. */
  gain?: number;
  /**
   * Parity packets after the data packets, sized for a link losing `lossRate` of its packets: the fewest (at
   * most as many as the data packets) for which a sample is unrecoverable with probability ≤ `residual`
   * (default 0.1; `parityFor` in fec.ts). Default none; none either when `lossRate` is 0.
   */
  fec?: { lossRate: number; residual?: number };
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
  /** Data packets in the sample (from the headers; parity packets not counted). */
  readonly packetCount: number;
  /** Distinct data packets decoded, recovered ones included. */
  readonly received: number;
  /** Data packets rebuilt from parity packets. */
  readonly recovered: number;
  /** Parity packets that arrived. */
  readonly parityReceived: number;
  /** Packets refused (garbage, truncated, inconsistent or duplicate), with why. */
  readonly errors: readonly PacketError[];
  /** Literal words the packets carried (from any packet that arrived); empty when none. */
  readonly literals: readonly TextLiteral[];
  /** The frame's gain, when the packets carry one. */
  readonly gain?: number;
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

/**
 * Position (symbol-major index c·T + t) of slot s of a sample of T tokens in N packets. Packet i carries slots
 * i, i + N, i + 2N, … (`countIn`). Version 2 rotates the tokens of each rank c by c·δ, δ = (T − 1) mod N, so
 * that slot s of rank c lands in packet (t + c) mod N (exactly when N divides T, nearly otherwise): a lost
 * packet erases 1/N of every token's ranks, a spread the channel decoder was trained on. Version 1 puts
 * position j = s in packet j mod N: when N divides T that is every rank of the tokens t ≡ i (mod N), whole
 * tokens lost (m4sc-eval, stage 8, 20% loss, 64×64 frames in 4 packets: −2.3 to −2.9 dB against −0.6 to
 * −0.8 dB for version 2). Version 1 is still read.
 */
export function slotPosition(s: number, T: number, N: number, version: number = PACKET_VERSION): number {
  if (version === 1) return s;
  const c = Math.floor(s / T);
  const delta = (T - 1) % N;
  return c * T + ((s - c * T + c * delta) % T);
}

/** Symbols of packet i among n positions spread over N packets. */
function countIn(i: number, n: number, N: number): number {
  return i < n ? Math.floor((n - 1 - i) / N) + 1 : 0;
}

/** Packets needed for n symbols of `bits` bits under `maxPacketBytes`. */
export function packetCountFor(
  n: number,
  bits: number,
  maxPacketBytes: number,
  minPackets = 1,
  trailerBytes = 0,
): number {
  const perPacket = Math.floor(((maxPacketBytes - PACKET_HEADER_BYTES - trailerBytes) * 8) / bits);
  if (perPacket < 1) {
    throw new TypeError(
      `maxPacketBytes=${maxPacketBytes} leaves no room for a ${bits}-bit symbol after the header${trailerBytes ? ` and ${trailerBytes} bytes of literals` : ''}`,
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
  const trailer = encodeLiterals(options.literals ?? [], T);
  const gain = options.gain;
  if (gain !== undefined && !(Number.isFinite(Math.fround(gain)) && Math.fround(gain) > 0))
    throw new TypeError(`gain must be a finite float32 > 0, got ${gain}`);
  const extra = gain === undefined ? 0 : GAIN_BYTES;
  const fec = options.fec;
  if (fec !== undefined && (typeof fec !== 'object' || fec === null))
    throw new TypeError('fec must be { lossRate, residual? }');
  // Room for the parity header, so that parity packets (as long as the longest data packet) fit too.
  const dataMax = fec && fec.lossRate > 0 ? maxPacketBytes - PACKET_HEADER_BYTES : maxPacketBytes;
  const N = packetCountFor(n, bits, dataMax, minPackets, trailer.length + extra);
  if (N > U16_MAX) throw new TypeError(`${N} packets needed; at most ${U16_MAX}`);
  const parity = fec ? parityFor(N, fec.lossRate, fec.residual) : 0;
  const packets: Uint8Array[] = [];
  for (let i = 0; i < N; i++) {
    const m = countIn(i, n, N);
    const values = new Float32Array(m);
    for (let k = 0; k < m; k++) values[k] = symbols[slotPosition(i + k * N, T, N)]!;
    const q = quantise(values, bits, options.clipRms === undefined ? {} : { clipRms: options.clipRms });
    const pkt = new Uint8Array(PACKET_HEADER_BYTES + extra + q.codes.length + trailer.length);
    const view = new DataView(pkt.buffer);
    pkt[0] = PACKET_MAGIC;
    pkt[1] = PACKET_VERSION;
    pkt[2] = bits;
    pkt[3] = (trailer.length > 0 ? FLAG_LITERALS : 0) | (gain !== undefined ? FLAG_GAIN : 0);
    view.setUint16(4, T, true);
    view.setUint16(6, C, true);
    view.setUint16(8, r, true);
    view.setUint16(10, gridWidth, true);
    view.setUint16(12, i, true);
    view.setUint16(14, N, true);
    view.setFloat32(16, q.scale, true);
    if (gain !== undefined) view.setFloat32(PACKET_HEADER_BYTES, gain, true);
    pkt.set(q.codes, PACKET_HEADER_BYTES + extra);
    pkt.set(trailer, PACKET_HEADER_BYTES + extra + q.codes.length);
    view.setUint32(20, packetCrc(pkt), true);
    packets.push(pkt);
  }
  if (parity > 0) {
    if (N + parity > MAX_FEC_SHARDS)
      throw new TypeError(`${N} data packets leave no room for parity (at most ${MAX_FEC_SHARDS} in all)`);
    fecEncode(packets, parity).forEach((bytes, j) => {
      const pkt = new Uint8Array(PACKET_HEADER_BYTES + bytes.length);
      const view = new DataView(pkt.buffer);
      pkt[0] = PACKET_MAGIC;
      pkt[1] = PACKET_VERSION;
      pkt[3] = FLAG_PARITY;
      view.setUint16(4, N, true);
      view.setUint16(6, parity, true);
      view.setUint16(8, j, true);
      pkt.set(bytes, PACKET_HEADER_BYTES);
      view.setUint32(20, packetCrc(pkt), true);
      packets.push(pkt);
    });
  }
  return packets;
}

/** What a parity packet's header says. */
export interface ParityHeader {
  /** Data packets of the sample. */
  readonly dataCount: number;
  /** Parity packets of the sample. */
  readonly parityCount: number;
  /** This packet's parity index. */
  readonly index: number;
}

/** Whether a byte string is marked as a parity packet (it may still be malformed). */
export const isParityPacket = (bytes: Uint8Array): boolean =>
  bytes instanceof Uint8Array && bytes.length > 3 && bytes[0] === PACKET_MAGIC && bytes[3] === FLAG_PARITY;

/** Parses and checks one parity packet. Throws PacketError (never anything else) on any byte string. */
export function parseParityPacket(bytes: Uint8Array): { header: ParityHeader; parity: Uint8Array } {
  if (!(bytes instanceof Uint8Array)) throw new PacketError('header', 'packet is not a Uint8Array');
  if (bytes.length <= PACKET_HEADER_BYTES)
    throw new PacketError('truncated', `parity packet of ${bytes.length} bytes has no parity bytes`);
  if (bytes[0] !== PACKET_MAGIC) throw new PacketError('magic', `bad magic byte 0x${bytes[0]!.toString(16)}`);
  if (bytes[1] !== PACKET_VERSION)
    throw new PacketError('version', `unsupported parity packet version ${bytes[1]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header: ParityHeader = {
    dataCount: view.getUint16(4, true),
    parityCount: view.getUint16(6, true),
    index: view.getUint16(8, true),
  };
  const zeroes = bytes.subarray(10, 20).every((b) => b === 0);
  if (
    bytes[2] !== 0 ||
    bytes[3] !== FLAG_PARITY ||
    !zeroes ||
    header.dataCount < 1 ||
    header.parityCount < 1 ||
    header.dataCount + header.parityCount > MAX_FEC_SHARDS ||
    header.index >= header.parityCount
  )
    throw new PacketError('header', `invalid parity header ${JSON.stringify(header)}`);
  if (view.getUint32(20, true) !== packetCrc(bytes))
    throw new PacketError('checksum', `parity packet ${header.index} fails its CRC-32`);
  return { header, parity: bytes.subarray(PACKET_HEADER_BYTES) };
}

function packetCrc(pkt: Uint8Array): number {
  return crc32(pkt.subarray(PACKET_HEADER_BYTES), crc32(pkt.subarray(0, 20)));
}

/** Parses and checks one packet. Throws PacketError (never anything else) on any byte string. */
export function parsePacket(bytes: Uint8Array): {
  header: PacketHeader;
  values: Float32Array;
  literals: TextLiteral[];
} {
  if (!(bytes instanceof Uint8Array)) throw new PacketError('header', 'packet is not a Uint8Array');
  if (bytes.length < PACKET_HEADER_BYTES) {
    throw new PacketError(
      'truncated',
      `packet of ${bytes.length} bytes is shorter than the ${PACKET_HEADER_BYTES}-byte header`,
    );
  }
  if (bytes[0] !== PACKET_MAGIC) throw new PacketError('magic', `bad magic byte 0x${bytes[0]!.toString(16)}`);
  if (!PACKET_VERSIONS_READ.includes(bytes[1]!))
    throw new PacketError('version', `unsupported packet version ${bytes[1]}`);
  if (bytes[3] === FLAG_PARITY)
    throw new PacketError('header', 'a parity packet, not a data packet (see parseParityPacket)');
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
  const hasGain = (bytes[3]! & FLAG_GAIN) !== 0;
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
    (bytes[3]! & ~(FLAG_LITERALS | FLAG_GAIN)) !== 0
  ) {
    throw new PacketError('header', `invalid header ${JSON.stringify(header)}`);
  }
  const { m, codesStart, codesEnd } = codesRange(bytes[3]!, bits, n, index, count);
  const hasLiterals = (bytes[3]! & FLAG_LITERALS) !== 0;
  const need = codesEnd + (hasLiterals ? 1 : 0);
  if (bytes.length < need)
    throw new PacketError('truncated', `packet ${index} has ${bytes.length} bytes, needs ${need}`);
  if (!hasLiterals && bytes.length > need)
    throw new PacketError('header', `packet ${index} has ${bytes.length} bytes, expected ${need}`);
  if (view.getUint32(20, true) !== packetCrc(bytes))
    throw new PacketError('checksum', `packet ${index} fails its CRC-32`);
  if (hasGain) {
    const gain = view.getFloat32(PACKET_HEADER_BYTES, true);
    if (!(Number.isFinite(gain) && gain > 0))
      throw new PacketError('header', `packet ${index} carries a bad gain ${gain}`);
    (header as { gain?: number }).gain = gain;
  }
  const literals = hasLiterals ? decodeLiterals(bytes.subarray(codesEnd), T, index) : [];
  const values = dequantise({ bits, scale, count: m, codes: bytes.subarray(codesStart, codesEnd) });
  if (bits === 32 && values.some((v) => !Number.isFinite(v))) {
    throw new PacketError('header', `packet ${index} carries non-finite float32 symbols`);
  }
  return { header, values, literals };
}

/**
 * Reassembles symbols from the packets of one sample, in any order, with holes (`undefined`/`null`) for
 * lost ones. Parity packets among them rebuild lost data packets when at least N of the N + m arrived. Bad
 * packets are skipped and reported in `errors`; their symbols are marked lost. Throws
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
  let literals: TextLiteral[] = [];
  const raw = new Map<number, Uint8Array>();
  const accept = (parsed: ReturnType<typeof parsePacket>, bytes: Uint8Array, recovered: boolean): void => {
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
          h.gridWidth !== ref.gridWidth ||
          h.gain !== ref.gain ||
          h.version !== ref.version))
    ) {
      errors.push(
        new PacketError(
          'inconsistent',
          `${recovered ? 'recovered ' : ''}packet ${h.index} does not belong with the others of this sample`,
        ),
      );
      return;
    }
    if (seen.has(h.index)) {
      errors.push(new PacketError('inconsistent', `duplicate packet ${h.index}`));
      return;
    }
    seen.add(h.index);
    raw.set(h.index, bytes);
    if (literals.length === 0) literals = parsed.literals;
    if (ref === undefined) {
      ref = h;
      symbols = new Float32Array(h.T * h.C);
      mask = new Float32Array(h.T * h.C);
    }
    const v = parsed.values;
    for (let k = 0; k < v.length; k++) {
      const j = slotPosition(h.index + k * h.count, h.T, h.count, h.version);
      symbols![j] = v[k]!;
      mask![j] = 1;
    }
  };
  const parity: { header: ParityHeader; parity: Uint8Array }[] = [];
  for (const pkt of packets) {
    if (pkt === undefined || pkt === null) continue;
    try {
      if (isParityPacket(pkt)) parity.push(parseParityPacket(pkt));
      else accept(parsePacket(pkt), pkt, false);
    } catch (e) {
      errors.push(e instanceof PacketError ? e : new PacketError('header', String(e)));
    }
  }
  const recovered = recoverFromParity(parity, ref, raw, errors);
  for (const r of recovered) accept(r.parsed, r.bytes, true);
  const fec = {
    recovered: recovered.length,
    parityReceived: new Set(parity.map((p) => p.header.index)).size,
  };
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
      ...fec,
      errors,
      literals,
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
    ...fec,
    errors,
    literals,
    ...(ref.gain !== undefined ? { gain: ref.gain } : {}),
  };
}

/**
 * The data packets that the parity packets give back: none when no data packet is missing, or when fewer than
 * N of the N + m packets arrived. Parity packets that disagree with each other or with the data are reported
 * in `errors` and not used; a recovered packet is still checked (its CRC) by whoever parses it, and one that
 * fails is reported here.
 */
function recoverFromParity(
  parity: readonly { header: ParityHeader; parity: Uint8Array }[],
  ref: PacketHeader | undefined,
  raw: ReadonlyMap<number, Uint8Array>,
  errors: PacketError[],
): { bytes: Uint8Array; parsed: ReturnType<typeof parsePacket> }[] {
  if (parity.length === 0) return [];
  const first = parity[0]!;
  const N = ref?.count ?? first.header.dataCount;
  const m = first.header.parityCount;
  const L = first.parity.length;
  const rows: (Uint8Array | undefined)[] = new Array(m).fill(undefined);
  for (const p of parity) {
    const h = p.header;
    if (h.dataCount !== N || h.parityCount !== m || p.parity.length !== L) {
      errors.push(
        new PacketError(
          'inconsistent',
          `parity packet ${h.index} does not belong with the others of this sample`,
        ),
      );
      continue;
    }
    if (rows[h.index] !== undefined) {
      errors.push(new PacketError('inconsistent', `duplicate parity packet ${h.index}`));
      continue;
    }
    rows[h.index] = p.parity;
  }
  const data: (Uint8Array | undefined)[] = [];
  for (let i = 0; i < N; i++) {
    const d = raw.get(i);
    if (d !== undefined && d.length > L) {
      errors.push(
        new PacketError('inconsistent', `packet ${i} is longer than the parity packets' ${L} bytes`),
      );
      return [];
    }
    data.push(d);
  }
  const missing = data.flatMap((d, i) => (d === undefined ? [i] : []));
  if (missing.length === 0) return [];
  const decoded = fecDecode(data, rows);
  if (decoded === undefined) return [];
  const out: { bytes: Uint8Array; parsed: ReturnType<typeof parsePacket> }[] = [];
  for (const i of missing) {
    const shard = decoded[i]!;
    const bytes = shard.subarray(0, dataPacketLength(shard));
    try {
      out.push({ bytes, parsed: parsePacket(bytes) });
    } catch (e) {
      errors.push(
        new PacketError(
          'checksum',
          `packet ${i} recovered from parity fails its checks (${(e as Error).message})`,
        ),
      );
    }
  }
  return out;
}

/**
 * Where a data packet's codes lie: `m` symbols of packet `index` of `count` among `n`, after the header and the
 * gain when `flags` has one.
 */
function codesRange(flags: number, bits: number, n: number, index: number, count: number) {
  const m = countIn(index, n, count);
  const codesStart = PACKET_HEADER_BYTES + ((flags & FLAG_GAIN) !== 0 ? GAIN_BYTES : 0);
  return { m, codesStart, codesEnd: codesStart + packedBytes(m, bits) };
}

/**
 * The length of a data packet at the start of `shard` (zero-padded after it), read from its header as
 * parsePacket reads it; a header it would refuse gives the whole shard, which parsePacket then refuses.
 */
function dataPacketLength(shard: Uint8Array): number {
  if (shard.length < PACKET_HEADER_BYTES) return shard.length;
  const view = new DataView(shard.buffer, shard.byteOffset, shard.byteLength);
  const bits = shard[2]!;
  const count = view.getUint16(14, true);
  if (!isSupportedBits(bits) || count < 1) return shard.length;
  const n = view.getUint16(4, true) * view.getUint16(8, true);
  let o = codesRange(shard[3]!, bits, n, view.getUint16(12, true), count).codesEnd;
  if ((shard[3]! & FLAG_LITERALS) !== 0 && o < shard.length) {
    const n = shard[o]!;
    o += 1;
    for (let k = 0; k < n && o + 1 < shard.length; k++) o += 2 + shard[o + 1]!;
  }
  return Math.min(o, shard.length);
}
