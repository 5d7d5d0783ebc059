/** Types of the codec API (codec.ts). */
import type { Bundle, BundleRole, BundleSource } from './bundle.js';
import type { RgbImage } from './image.js';
import type { Instruction, InstructionInput, Modality } from './instruction.js';
import type { Manifest } from './manifest.js';
import type { OperatingPoint } from './operatingPoint.js';
import type { ExecutionProvider, OrtLike } from './ortTypes.js';
import type { DepacketizeResult, TextLiteral } from './packet.js';
import type { Tokenizer } from './tokenizer.js';

export interface SemanticCodecOptions {
  /** A loaded bundle (the codec does not close it). Conflicts with `bundleDir`. */
  bundle?: Bundle;
  /** Where to load a bundle from (the codec owns and closes it). Needs `ort`. */
  bundleDir?: BundleSource;
  /** The onnxruntime module (node or web); required with `bundleDir`. */
  ort?: OrtLike;
  /** Execution providers, with `bundleDir`; default ['cpu']. */
  executionProviders?: readonly ExecutionProvider[];
  /**
   * Which stages to load, with `bundleDir`: `all` (default), `sender` (encodeSample and its parts) or `receiver`
   * (decodeSample and its parts). A call that needs a stage the role left out throws UnsupportedError.
   */
  role?: BundleRole;
}

/** Tokens [batch, T, D], row-major. */
export interface Tokens {
  readonly data: Float32Array;
  readonly batch: number;
  readonly T: number;
  readonly D: number;
  /** The image token grid [h, w] (T = h·w) when the tokens come from an image. */
  readonly grid?: readonly [number, number];
}

/** Channel symbols, symbol-major per sample: value of sample b, symbol c, token t at b·C·T + c·T + t. */
export interface Symbols {
  readonly data: Float32Array;
  readonly batch: number;
  readonly T: number;
  readonly C: number;
  readonly grid?: readonly [number, number];
  /** Per sample: the frame's power scale (the public image code, `streams.image`); packets carry it. */
  readonly gain?: Float32Array;
}

/** One sample's received symbols (symbol-major) and mask (1 = received); a DepacketizeResult fits. */
export interface ReceivedSymbols {
  readonly symbols: Float32Array;
  readonly mask: Float32Array;
  readonly T: number;
  readonly C: number;
  /** Image grid width (0 or absent when not an image). */
  readonly gridWidth?: number;
  /** The frame's gain, from the packets (the public image code); absent when none arrived. */
  readonly gain?: number;
}

/** The state a channel coder is conditioned on. An OperatingPoint fits. */
export interface ChannelState {
  readonly snrDb: number;
  readonly lossRate: number;
}

/** A decoded word sequence. */
export interface TextResult {
  readonly text: string;
  readonly words: readonly string[];
  /** The tokens before word pieces are joined (= `words` for a word-level vocabulary); literals index these. */
  readonly tokens: readonly string[];
  /** Argmax ids, all positions (before cutting at `<eos>`). */
  readonly ids: readonly number[];
}

/** Which channel coder a call uses (per-stream coders when the manifest names them). */
export type StreamKind = 'public' | 'private';

export type Sample = { readonly image: RgbImage } | { readonly text: string };

export interface EncodeSampleOptions {
  /**
   * Receivers' instructions. Private-stream tasks (classify, caption, answer) are encoded once per distinct
   * instruction, in one batched run; reconstruct/transmit are served by the public stream and skipped.
   */
  instructions?: readonly (InstructionInput | Instruction)[];
  /** Largest packet, header included; default `DEFAULT_MAX_PACKET_BYTES`. */
  maxPacketBytes?: number;
  /** Spread each stream over at least this many packets; default 1. */
  minPackets?: number;
  /**
   * An operating point per instruction (same order as `instructions`); default `op` for all. Lets each
   * receiver's private stream follow its own link. Instructions are encoded once per (instruction, point).
   */
  privateOps?: readonly (OperatingPoint | undefined)[];
  /**
   * Cut the public stream into progressive layers at these symbol-per-token bounds (ascending, the last
   * ≤ `op.rateSymbols`), e.g. [4, 8, 16]: layer k carries symbols [bound(k−1), bound(k)) of every token.
   * Symbols are symbol-major, so each layer is one contiguous block, packetised on its own; a receiver
   * decodes any prefix of layers (`decodeSample({ layers })`). Default: one stream, no layers.
   */
  publicLayers?: readonly number[];
  /**
   * Text samples: send the words the vocabulary lacks as UTF-8 beside the symbols (the packets' literal
   * trailer), so the receiver shows them instead of `<unk>`; they cost their bytes in every packet of the
   * public stream (of its base layer when layered). Default true.
   */
  literals?: boolean;
  /**
   * Image samples' public stream: `learned` (default: image_encoder → public_encoder → channel coder) or
   * `code`, the bundle's public image code (`streams.image`; UnsupportedError without one): ~4 dB more PSNR
   * on photos at AWGN 10 dB, and on a lossy link parity packets that keep it within 2 dB of loss-free at
   * 20 % loss (`publicLossRate`), but the learned path is far ahead on the synthetic scenes it was trained on
   * (docs/EVAL.md, docs/learned-image/EVAL.md). `m4sc-send --image-path auto` picks the code for natural
   * images. Frame sides must be multiples of its block. Its packets carry the frame gain, which is how
   * `decodeSample` tells the two apart.
   */
  publicImage?: 'learned' | 'code';
  /**
   * With `publicImage: 'code'`: the packet-loss rate its parity packets are sized for (`PacketizeOptions.fec`;
   * none at 0), e.g. the worst loss measured among the receivers. Default `op.lossRate`. The learned path
   * carries no parity: its channel coder was trained through erasures.
   */
  publicLossRate?: number;
}

/** One progressive layer of the public stream. */
export interface EncodedLayer {
  /** First symbol per token it carries, and one past the last. */
  readonly start: number;
  readonly end: number;
  readonly packets: Uint8Array[];
}

export interface EncodedStream {
  readonly stream: StreamKind;
  readonly packets: Uint8Array[];
  readonly T: number;
  readonly C: number;
  /** For private streams: the instruction and its key (`instructionKey`). */
  readonly instruction?: Instruction;
  readonly key?: string;
  /** For private streams: the operating point it was coded at. */
  readonly op?: OperatingPoint;
}

export interface EncodedSample {
  readonly modality: Modality;
  readonly op: OperatingPoint;
  readonly grid?: readonly [number, number];
  readonly public: EncodedStream;
  /** With `publicLayers`: the public stream cut into layers (the same symbols as `public`). */
  readonly publicLayers?: readonly EncodedLayer[];
  readonly private: readonly EncodedStream[];
}

type Packets = readonly (Uint8Array | undefined | null)[];

export type DecodeSampleInput =
  | {
      readonly stream: 'public';
      readonly modality: Modality;
      /** The sample's packets, or, for a layered stream, `layers` (the layers received, any subset). */
      readonly packets?: Packets;
      readonly layers?: readonly { readonly start: number; readonly packets: Packets }[];
      readonly op: OperatingPoint;
      /** Conditioning state; default the op's [snrDb, lossRate]. */
      readonly state?: ChannelState;
      /** Tokens expected (for an all-lost sample); for images also `grid`. */
      readonly T?: number;
      readonly grid?: readonly [number, number];
    }
  | {
      readonly stream: 'private';
      readonly instruction: InstructionInput | Instruction;
      readonly packets: Packets;
      readonly op: OperatingPoint;
      readonly state?: ChannelState;
    };

export type DecodedSample =
  | { readonly kind: 'image'; readonly image: RgbImage; readonly received: DepacketizeResult }
  | { readonly kind: 'text'; readonly text: TextResult; readonly received: DepacketizeResult };

/** The codec: a bundle's stages behind typed, validated calls. All model calls are async. */
export interface SemanticCodec {
  readonly bundle: Bundle;
  readonly manifest: Manifest;
  readonly tokenizer: Tokenizer;
  /** The bundle's operating points, completed (version 1, quantiser SNR, loss 0). */
  readonly operatingPoints: readonly OperatingPoint[];
  /** An operating point by name; throws UnsupportedError when unknown. */
  operatingPoint(name: string): OperatingPoint;
  /** Validates an instruction against the bundle's tasks, modalities and instruction length. */
  parseInstruction(input: InstructionInput | Instruction): Instruction;

  encodeImage(image: RgbImage | readonly RgbImage[]): Promise<Tokens>;
  encodeText(text: string | readonly string[]): Promise<Tokens>;
  publicEncode(tokens: Tokens): Promise<Tokens>;
  /**
   * The tokens private instructions read for these images: the bundle's private trunk
   * (`streams.private.trunk`) where it has one, else the public tokens (`pub` when given, so they are not
   * computed twice). Where the bundle gives `streams.private.imageSize`, images of another size are first
   * area-resampled to it (and `pub` is not used for them). Feed the result to `privateEncode`.
   */
  privateSource(image: RgbImage | readonly RgbImage[], pub?: Tokens): Promise<Tokens>;
  /** One private encode per instruction (on `privateSource`'s tokens), batched; a batch of 1 is shared by all. */
  privateEncode(
    pub: Tokens,
    instruction: InstructionInput | Instruction | readonly (InstructionInput | Instruction)[],
  ): Promise<Tokens>;
  channelEncode(tokens: Tokens, state: ChannelState, stream?: StreamKind): Promise<Symbols>;
  /** Packets of one sample (`sampleIndex`, default 0) of `symbols` at the operating point. */
  packetize(
    symbols: Symbols,
    op: OperatingPoint,
    maxPacketBytes?: number,
    options?: {
      sampleIndex?: number;
      minPackets?: number;
      literals?: readonly TextLiteral[];
      /** Parity packets for a lossy link (packet.ts, `PacketizeOptions.fec`). Default none. */
      fec?: { lossRate: number; residual?: number };
    },
  ): Uint8Array[];
  depacketize(packets: Packets, expected?: { T?: number; C?: number }): DepacketizeResult;
  /** One sample, or a batch sharing T, C and grid (one run). */
  channelDecode(
    received: ReceivedSymbols | readonly ReceivedSymbols[],
    state: ChannelState,
    stream?: StreamKind,
  ): Promise<Tokens>;
  decodeImage(tokens: Tokens, grid?: readonly [number, number]): Promise<RgbImage[]>;
  /** Whether the bundle has a public image code (`streams.image`; `encodeSample`'s `publicImage: 'code'`). */
  readonly hasImageCode: boolean;
  /**
   * The public image code's symbols for a batch of same-sized images (sides multiples of its block): the
   * analysis stage, then the linear code for `state.snrDb` at `rateSymbols` symbols per token; each sample's
   * symbols have mean power 1 over the rate prefix and its scale in `gain`. UnsupportedError without
   * `streams.image`.
   */
  encodeImageCode(
    image: RgbImage | readonly RgbImage[],
    state: ChannelState,
    rateSymbols: number,
  ): Promise<Symbols>;
  /**
   * Decodes received public image symbols (each with its `gain` and `gridWidth`; a batch shares T) coded for
   * `state` at `rateSymbols` (the sender's operating point, not the prefix that arrived): LMMSE, then synthesis.
   * A sample with no symbol received decodes to the code's mean image.
   */
  decodeImageCode(
    received: ReceivedSymbols | readonly ReceivedSymbols[],
    state: ChannelState,
    rateSymbols: number,
  ): Promise<RgbImage[]>;
  decodeText(tokens: Tokens): Promise<TextResult[]>;
  decodeTask(
    priv: Tokens,
    instruction: InstructionInput | Instruction | readonly (InstructionInput | Instruction)[],
  ): Promise<TextResult[]>;

  encodeSample(sample: Sample, op: OperatingPoint, options?: EncodeSampleOptions): Promise<EncodedSample>;
  decodeSample(input: DecodeSampleInput): Promise<DecodedSample>;

  /** Closes the bundle if the codec loaded it. Idempotent; later calls throw InvalidStateError. */
  close(): Promise<void>;
  readonly closed: boolean;
}
