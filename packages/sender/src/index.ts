export { DEFAULT_FPS, DEFAULT_HEIGHT, DEFAULT_ROOM, DEFAULT_WIDTH } from './defaults.js';
export { createSender, type Sender, type SenderOptions } from './sender.js';
export { type RgbFrame, testPatternFrame } from './sources/testPattern.js';
export type { ReceiverInfo, SenderStats } from './types.js';
