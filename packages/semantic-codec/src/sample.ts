/**
 * The whole sender and receiver paths for one sample, on top of the codec's stage calls: public stream
 * (one encode per sample) and private streams (one per distinct instruction, batched).
 */
import type {
  DecodedSample,
  DecodeSampleInput,
  EncodedLayer,
  EncodedSample,
  EncodedStream,
  EncodeSampleOptions,
  Sample,
  SemanticCodec,
  Symbols,
  Tokens,
} from './codecTypes.js';
import { DEFAULT_MAX_PACKET_BYTES, MAX_DECODE_IMAGE_TOKENS } from './defaults.js';
import { UnsupportedError } from './errors.js';
import type { RgbImage } from './image.js';
import { type Instruction, instructionKey, type Modality } from './instruction.js';
import { type OperatingPoint, parseOperatingPoint } from './operatingPoint.js';
import { type DepacketizeResult, depacketize, type TextLiteral } from './packet.js';
import { applyLiterals, textLiterals } from './tokenizer.js';

/** Tasks answered on a private stream; reconstruct and transmit are served by the public one. */
const PRIVATE_TASKS = new Set(['classify', 'caption', 'answer']);

export async function encodeSample(
  codec: SemanticCodec,
  sample: Sample,
  op: OperatingPoint,
  options: EncodeSampleOptions = {},
): Promise<EncodedSample> {
  if (typeof sample !== 'object' || sample === null)
    throw new TypeError('sample must be { image } or { text }');
  const point = parseOperatingPoint(op, { C: codec.manifest.dims.C });
  const maxPacketBytes = options.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;
  const pk = options.minPackets !== undefined ? { minPackets: options.minPackets } : {};
  let modality: Modality;
  // Image samples coded by the bundle's public image code skip the token path for the public stream.
  let tokens: Tokens | undefined;
  let literals: TextLiteral[] = [];
  const path = options.publicImage ?? 'learned';
  if (path !== 'learned' && path !== 'code')
    throw new TypeError(`publicImage must be 'learned' or 'code', got '${String(path)}'`);
  const imageCode = path === 'code';
  if ('image' in sample && sample.image !== undefined) {
    if ('text' in sample) throw new TypeError('sample has both image and text');
    modality = 'image';
    if (imageCode && !codec.hasImageCode)
      throw new UnsupportedError(`bundle '${codec.manifest.name}' has no public image code (streams.image)`);
    if (!imageCode) tokens = await codec.encodeImage(sample.image);
  } else if ('text' in sample && typeof sample.text === 'string') {
    modality = 'text';
    tokens = await codec.encodeText(sample.text);
    if (options.literals !== false) literals = textLiterals(codec.tokenizer, sample.text);
  } else {
    throw new TypeError('sample must be { image } or { text: string }');
  }
  // Parse every instruction (and its point) first, so a bad one fails before any model work.
  const instructions = options.instructions ?? [];
  if (options.privateOps !== undefined && options.privateOps.length !== instructions.length) {
    throw new TypeError(
      `privateOps has ${options.privateOps.length} entries for ${instructions.length} instructions`,
    );
  }
  const unique = new Map<string, { instruction: Instruction; op: OperatingPoint }>();
  instructions.forEach((input, i) => {
    const instr = codec.parseInstruction(input);
    if (instr.modality !== modality) {
      throw new UnsupportedError(
        `instruction '${instructionKey(instr)}' is for ${instr.modality}, the sample is ${modality}`,
      );
    }
    const own = options.privateOps?.[i];
    const iop = own === undefined ? point : parseOperatingPoint(own, { C: codec.manifest.dims.C });
    if (PRIVATE_TASKS.has(instr.task))
      unique.set(`${instructionKey(instr)}|${opKey(iop)}`, { instruction: instr, op: iop });
  });
  const layerBounds = checkLayers(options.publicLayers, point.rateSymbols);
  const pub = tokens ? await codec.publicEncode(tokens) : undefined;
  const pubSymbols = pub
    ? await codec.channelEncode(pub, point, 'public')
    : await codec.encodeImageCode((sample as { image: RgbImage }).image, point, point.rateSymbols);
  // The image code's symbols are not erasure-trained as the token path's are: a lost packet costs it what it
  // carried (training/README.md, "The public image code"), so on a lossy link it carries parity packets.
  const fecLoss = options.publicLossRate ?? point.lossRate;
  if (!(fecLoss >= 0 && fecLoss <= 1))
    throw new TypeError(`publicLossRate must be in [0, 1], got ${fecLoss}`);
  const fec = imageCode && fecLoss > 0 ? { fec: { lossRate: fecLoss } } : {};
  const publicStream: EncodedStream = {
    stream: 'public',
    packets: codec.packetize(pubSymbols, point, maxPacketBytes, { ...pk, ...fec, literals }),
    T: pubSymbols.T,
    C: pubSymbols.C,
  };
  let publicLayers: EncodedLayer[] | undefined;
  if (layerBounds) {
    publicLayers = [];
    let start = 0;
    for (const end of layerBounds) {
      const block: Symbols = {
        data: pubSymbols.data.subarray(start * pubSymbols.T, end * pubSymbols.T),
        batch: 1,
        T: pubSymbols.T,
        C: end - start,
        ...(pubSymbols.grid ? { grid: pubSymbols.grid } : {}),
        ...(pubSymbols.gain ? { gain: pubSymbols.gain } : {}),
      };
      const lop = { ...point, rateSymbols: end - start };
      // Literals ride in the base layer, which every receiver takes.
      const lit = start === 0 ? { literals } : {};
      publicLayers.push({
        start,
        end,
        packets: codec.packetize(block, lop, maxPacketBytes, { ...pk, ...fec, ...lit }),
      });
      start = end;
    }
  }
  const privateStreams: EncodedStream[] = [];
  if (unique.size > 0) {
    const list = [...unique.values()];
    // One backbone run for every instruction; one channel-coder run per distinct conditioning state.
    // The private trunk's tokens where the bundle has one (image samples), else the public tokens.
    const src =
      'image' in sample && sample.image !== undefined ? await codec.privateSource(sample.image, pub) : pub!;
    const priv = await codec.privateEncode(
      src,
      list.map((e) => e.instruction),
    );
    const byState = new Map<string, Symbols>();
    for (const { op: o } of list) {
      const k = `${o.snrDb}|${o.lossRate}`;
      if (!byState.has(k)) byState.set(k, await codec.channelEncode(priv, o, 'private'));
    }
    list.forEach(({ instruction, op: o }, b) => {
      const sym = byState.get(`${o.snrDb}|${o.lossRate}`)!;
      privateStreams.push({
        stream: 'private',
        packets: codec.packetize(sym, o, maxPacketBytes, { sampleIndex: b, ...pk }),
        T: sym.T,
        C: sym.C,
        instruction,
        key: instructionKey(instruction),
        op: o,
      });
    });
  }
  return {
    modality,
    op: point,
    ...(pubSymbols.grid ? { grid: pubSymbols.grid } : {}),
    public: publicStream,
    ...(publicLayers ? { publicLayers } : {}),
    private: privateStreams,
  };
}

const opKey = (o: OperatingPoint) =>
  `${o.name}/${o.version}/${o.rateSymbols}/${o.bits}/${o.snrDb}/${o.lossRate}`;

function checkLayers(bounds: readonly number[] | undefined, rate: number): number[] | undefined {
  if (bounds === undefined) return undefined;
  if (!Array.isArray(bounds) || bounds.length === 0)
    throw new TypeError('publicLayers must be a non-empty array');
  let prev = 0;
  for (const b of bounds) {
    if (!Number.isInteger(b) || b <= prev)
      throw new TypeError(`publicLayers must ascend from 1, got [${bounds.join(', ')}]`);
    prev = b;
  }
  if (prev > rate)
    throw new TypeError(`publicLayers end at ${prev}, past the operating point's rate ${rate}`);
  return [...bounds];
}

/**
 * Stitches received layers of a public sample into one symbol-major block of C symbols per token: each
 * layer lands at its `start`; symbols of layers not received (or lost) are masked, as a rate prefix is.
 */
export function mergeLayers(
  layers: readonly { readonly start: number; readonly packets: readonly (Uint8Array | undefined | null)[] }[],
  C: number,
  T?: number,
): DepacketizeResult {
  if (!Array.isArray(layers) || layers.length === 0) throw new TypeError('layers must be a non-empty array');
  const parts = layers.map((l) => {
    if (!Number.isInteger(l.start) || l.start < 0 || l.start >= C)
      throw new TypeError(`layer start ${l.start} outside 0..${C - 1}`);
    // A layer's packets say its own C (its width); the bound against the bundle's C is checked below.
    return { start: l.start, r: depacketize(l.packets, T !== undefined ? { T } : {}) };
  });
  const t = parts[0]!.r.T;
  const symbols = new Float32Array(t * C);
  const mask = new Float32Array(t * C);
  let gridWidth = 0;
  let packetCount = 0;
  let received = 0;
  let recovered = 0;
  let parityReceived = 0;
  let top = 0;
  const errors: DepacketizeResult['errors'][number][] = [];
  let literals: DepacketizeResult['literals'] = [];
  let gain: number | undefined;
  for (const { start, r } of parts) {
    if (r.T !== t) throw new TypeError(`layers disagree on T: ${r.T} vs ${t}`);
    if (start + r.C > C) throw new TypeError(`layer [${start}, ${start + r.C}) exceeds C = ${C}`);
    symbols.set(r.symbols, start * t);
    mask.set(r.mask, start * t);
    gridWidth ||= r.gridWidth;
    packetCount += r.packetCount;
    received += r.received;
    recovered += r.recovered;
    parityReceived += r.parityReceived;
    errors.push(...r.errors);
    if (literals.length === 0) literals = r.literals;
    gain ??= r.gain;
    if (r.received > 0) top = Math.max(top, start + r.rateSymbols);
  }
  return {
    symbols,
    mask,
    T: t,
    C,
    rateSymbols: Math.max(1, top),
    bits: parts[0]!.r.bits,
    gridWidth,
    packetCount,
    received,
    recovered,
    parityReceived,
    errors,
    literals,
    ...(gain !== undefined ? { gain } : {}),
  };
}

export async function decodeSample(codec: SemanticCodec, input: DecodeSampleInput): Promise<DecodedSample> {
  if (typeof input !== 'object' || input === null) throw new TypeError('input must be an object');
  const point = parseOperatingPoint(input.op, { C: codec.manifest.dims.C });
  const state = input.state ?? point;
  if (input.stream === 'private') {
    const instr = codec.parseInstruction(input.instruction);
    const received = codec.depacketize(input.packets, { T: codec.manifest.dims.P });
    const priv = await codec.channelDecode(received, state, 'private');
    const [text] = await codec.decodeTask(priv, instr);
    return { kind: 'text', text: text!, received };
  }
  if (input.stream !== 'public')
    throw new TypeError(`unknown stream '${(input as { stream: unknown }).stream}'`);
  const T = input.T ?? (input.grid ? input.grid[0] * input.grid[1] : undefined);
  if ((input.packets === undefined) === (input.layers === undefined)) {
    throw new TypeError('a public sample takes either packets or layers');
  }
  const received =
    input.layers !== undefined
      ? mergeLayers(input.layers, codec.manifest.dims.C, T)
      : codec.depacketize(input.packets!, T !== undefined ? { T } : {});
  // The packets say how many tokens to decode: bound it before the models run (their cost grows as T²).
  const maxT = input.modality === 'text' ? codec.tokenizer.text.maxLen : MAX_DECODE_IMAGE_TOKENS;
  if (received.T > maxT) {
    throw new UnsupportedError(
      `a ${input.modality} sample of ${received.T} tokens exceeds the ${maxT} this receiver decodes`,
    );
  }
  if (input.modality === 'image') {
    const gw = received.gridWidth || input.grid?.[1] || 0;
    if (gw === 0) throw new TypeError('image sample without a grid: packets carry none and none was given');
    // Packets of the public image code carry the frame gain; the token path's do not.
    if (received.gain !== undefined) {
      const [image] = await codec.decodeImageCode({ ...received, gridWidth: gw }, state, point.rateSymbols);
      return { kind: 'image', image: image!, received };
    }
    const tokens = await codec.channelDecode({ ...received, gridWidth: gw }, state, 'public');
    const [image] = await codec.decodeImage(tokens);
    return { kind: 'image', image: image!, received };
  }
  if (input.modality === 'text') {
    const tokens = await codec.channelDecode(received, state, 'public');
    const [text] = await codec.decodeText(tokens);
    if (received.literals.length === 0) return { kind: 'text', text: text!, received };
    const { words, text: restored } = applyLiterals(codec.tokenizer.text, text!.tokens, received.literals);
    return { kind: 'text', text: { ...text!, words, text: restored }, received };
  }
  throw new UnsupportedError(`unsupported modality '${String((input as { modality: unknown }).modality)}'`);
}
