/**
 * The whole sender and receiver paths for one sample, on top of the codec's stage calls: public stream
 * (one encode per sample) and private streams (one per distinct instruction, batched).
 */
import type {
  DecodedSample,
  DecodeSampleInput,
  EncodedSample,
  EncodedStream,
  EncodeSampleOptions,
  Sample,
  SemanticCodec,
  Tokens,
} from './codecTypes.js';
import { DEFAULT_MAX_PACKET_BYTES, MAX_DECODE_IMAGE_TOKENS } from './defaults.js';
import { UnsupportedError } from './errors.js';
import { type Instruction, instructionKey, type Modality } from './instruction.js';
import { type OperatingPoint, parseOperatingPoint } from './operatingPoint.js';

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
  let tokens: Tokens;
  if ('image' in sample && sample.image !== undefined) {
    if ('text' in sample) throw new TypeError('sample has both image and text');
    modality = 'image';
    tokens = await codec.encodeImage(sample.image);
  } else if ('text' in sample && typeof sample.text === 'string') {
    modality = 'text';
    tokens = await codec.encodeText(sample.text);
  } else {
    throw new TypeError('sample must be { image } or { text: string }');
  }
  // Parse every instruction first, so a bad one fails before any model work.
  const unique = new Map<string, Instruction>();
  for (const input of options.instructions ?? []) {
    const instr = codec.parseInstruction(input);
    if (instr.modality !== modality) {
      throw new UnsupportedError(
        `instruction '${instructionKey(instr)}' is for ${instr.modality}, the sample is ${modality}`,
      );
    }
    if (PRIVATE_TASKS.has(instr.task)) unique.set(instructionKey(instr), instr);
  }
  const pub = await codec.publicEncode(tokens);
  const pubSymbols = await codec.channelEncode(pub, point, 'public');
  const publicStream: EncodedStream = {
    stream: 'public',
    packets: codec.packetize(pubSymbols, point, maxPacketBytes, pk),
    T: pubSymbols.T,
    C: pubSymbols.C,
  };
  const privateStreams: EncodedStream[] = [];
  if (unique.size > 0) {
    const list = [...unique.values()];
    const priv = await codec.privateEncode(pub, list);
    const sym = await codec.channelEncode(priv, point, 'private');
    list.forEach((instruction, b) => {
      privateStreams.push({
        stream: 'private',
        packets: codec.packetize(sym, point, maxPacketBytes, { sampleIndex: b, ...pk }),
        T: sym.T,
        C: sym.C,
        instruction,
        key: instructionKey(instruction),
      });
    });
  }
  return {
    modality,
    op: point,
    ...(tokens.grid ? { grid: tokens.grid } : {}),
    public: publicStream,
    private: privateStreams,
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
  const received = codec.depacketize(input.packets, T !== undefined ? { T } : {});
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
    const tokens = await codec.channelDecode({ ...received, gridWidth: gw }, state, 'public');
    const [image] = await codec.decodeImage(tokens);
    return { kind: 'image', image: image!, received };
  }
  if (input.modality === 'text') {
    const tokens = await codec.channelDecode(received, state, 'public');
    const [text] = await codec.decodeText(tokens);
    return { kind: 'text', text: text!, received };
  }
  throw new UnsupportedError(`unsupported modality '${String((input as { modality: unknown }).modality)}'`);
}
