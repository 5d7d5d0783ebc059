/** Defaults of `m4sc-send`, with units in their names. */

/** Room joined when `--room` is not given. */
export const DEFAULT_ROOM = 'demo';
/** Frames per second of the synthetic source. */
export const DEFAULT_FPS = 15;
/** Frame size of the synthetic source, pixels. 64×64 is the size the targets are stated at. */
export const DEFAULT_WIDTH = 64;
export const DEFAULT_HEIGHT = 64;
/** Port of the embedded signaling server when `--signal` is not given (0 = any free port). */
export const DEFAULT_EMBEDDED_SIGNAL_PORT = 8787;
/** How often the live stats line is printed, milliseconds. */
export const DEFAULT_STATS_INTERVAL_MS = 1_000;
