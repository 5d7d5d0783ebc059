export type {
  Bundle,
  BundleReader,
  BundleRole,
  BundleSource,
  ChannelCoder,
  LoadBundleOptions,
  Stage,
} from './bundle.js';
export { BUNDLE_ROLES, loadBundle, readBundleTestdata, roleLoads } from './bundle.js';
export type {
  AwgnOptions,
  ErasureOptions,
  PacketChannel,
  RayleighOptions,
  SymbolChannel,
} from './channels.js';
export { awgn, erasure, erasureMask, rayleigh } from './channels.js';
export { createSemanticCodec } from './codec.js';
export type {
  ChannelState,
  DecodedSample,
  DecodeSampleInput,
  EncodedLayer,
  EncodedSample,
  EncodedStream,
  EncodeSampleOptions,
  ReceivedSymbols,
  Sample,
  SemanticCodec,
  SemanticCodecOptions,
  StreamKind,
  Symbols,
  TextResult,
  Tokens,
} from './codecTypes.js';
export {
  DEFAULT_EXECUTION_PROVIDERS,
  DEFAULT_MAX_PACKET_BYTES,
  MAX_LITERAL_BYTES,
  MAX_LITERAL_TOKEN,
  MAX_LITERALS,
  MAX_SUPPORTED_OPSET,
} from './defaults.js';
export type { BundleErrorReason, PacketErrorReason } from './errors.js';
export { BundleError, InvalidStateError, PacketError, UnsupportedError } from './errors.js';
export type { Scene, SceneShape } from './eval/scenes.js';
export {
  generateScene,
  heldOutSceneSeeds,
  renderScene,
  SCENE_SIZE,
  scaleScene,
  sceneCaption,
  sceneQuestions,
} from './eval/scenes.js';
export type {
  Instruction,
  InstructionInput,
  Modality,
  OutputKind,
  ParseInstructionOptions,
  Task,
} from './instruction.js';
export {
  encodeInstruction,
  instructionKey,
  MODALITIES,
  OUTPUTS,
  parseInstruction,
  TASK_DEFAULTS,
  TASKS,
} from './instruction.js';
export type { KanLayer } from './kan.js';
export { bSplineBases, kanForward, kanGrid, kanLayerForward } from './kan.js';
export type { Manifest, StageName, StageSpec, TensorSpec } from './manifest.js';
export { STAGE_NAMES } from './manifest.js';
export type { BleuOptions, BleuResult, BleuSmoothing, ImageLike, SsimOptions } from './metrics.js';
export { accuracy, corpusBleu, mse, psnr, sentenceBleu, ssim } from './metrics.js';
export type { OperatingPoint, WireOperatingPoint } from './operatingPoint.js';
export {
  createOperatingPoint,
  fromWireOperatingPoint,
  operatingPointState,
  parseOperatingPoint,
  quantiserSnrDb,
  toWireOperatingPoint,
} from './operatingPoint.js';
export type {
  ExecutionProvider,
  OrtLike,
  OrtSessionLike,
  OrtSessionOptions,
  OrtTensorLike,
} from './ortTypes.js';
export type {
  DepacketizeOptions,
  DepacketizeResult,
  PacketHeader,
  PacketizeOptions,
  TextLiteral,
} from './packet.js';
export {
  depacketize,
  encodeLiterals,
  PACKET_HEADER_BYTES,
  PACKET_VERSION,
  PACKET_VERSIONS_READ,
  packetCountFor,
  packetize,
  parsePacket,
  slotPosition,
} from './packet.js';
export type { Quantised, QuantiseOptions } from './quantiser.js';
export { dequantise, packedBytes, quantise } from './quantiser.js';
export type { Rng } from './rng.js';
export { createRng } from './rng.js';
export type {
  DecodeReportMessage,
  ErrorMessage,
  HelloMessage,
  InstructionMessage,
  ReceiverToSender,
  RelayLayersMessage,
  SenderToReceiver,
  ServeMessage,
} from './session.js';
export { MAX_PUBLIC_LAYERS, MAX_QUERY_CHARS, parseReceiverMessage, parseSenderMessage } from './session.js';
export type { EncodeTextOptions, Tokenizer, Vocab } from './tokenizer.js';
export {
  applyLiterals,
  createTokenizer,
  DEFAULT_CONTINUATION,
  decodeIds,
  encodeText,
  joinPieces,
  joinWords,
  splitWords,
  textLiterals,
  textTokens,
  vocabularyWords,
  wordPieces,
} from './tokenizer.js';
