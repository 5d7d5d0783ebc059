export {
  type AdaptationContext,
  type AdaptationLevel,
  type AdaptationPolicy,
  createDefaultAdaptationPolicy,
  DEFAULT_ADAPTATION_LADDER,
  DEFAULT_LAYER_BOUNDS,
  DEFAULT_LOSS_GRID,
  type Decision,
  type DefaultAdaptationOptions,
  type LinkFigures,
  linkFiguresFromStats,
} from './adaptation.js';
export { DEFAULT_BUNDLE_DIR, DEFAULT_FPS, DEFAULT_HEIGHT, DEFAULT_ROOM, DEFAULT_WIDTH } from './defaults.js';
export {
  cudaProviderLibraries,
  type Device,
  type DeviceChoice,
  DeviceError,
  loadCodecOnDevice,
} from './device.js';
export { autoImagePath } from './imagePath.js';
export type { AdaptationTraceEntry } from './linkAdaptation.js';
export {
  cheapestOperatingPoint,
  defaultPrivateOperatingPoint,
  minPacketsForLoss,
} from './operatingPoints.js';
export { createSender, instructionTag, type Sender, type SenderOptions } from './sender.js';
export {
  createWordEditSharingPolicy,
  DEFAULT_SHARING_THRESHOLD,
  groupInstructions,
  type ShareableInstruction,
  type ShareGroup,
  type SharingPolicy,
} from './sharing.js';
export {
  openSource,
  parseSourceSpec,
  type Source,
  SourceError,
  type SourceSample,
  type SourceSpec,
} from './sources/index.js';
export { type RgbFrame, testPatternFrame } from './sources/testPattern.js';
export { parseY4mHeader, Y4mError, type Y4mFrame, type Y4mHeader, Y4mParser } from './sources/y4m.js';
export type { ReceiverInfo, SenderStats } from './types.js';
