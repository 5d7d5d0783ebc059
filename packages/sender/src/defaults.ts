import { fileURLToPath } from 'node:url';

/** Defaults of `m4sc-send`, with units in their names. */

/** Room joined when `--room` is not given. */
export const DEFAULT_ROOM = 'demo';
/** Samples per second. */
export const DEFAULT_FPS = 15;
/** Frame size image sources (other than the 32×32 synthetic scenes) are scaled to, pixels: the issues' targets are stated at 64×64. */
export const DEFAULT_WIDTH = 64;
export const DEFAULT_HEIGHT = 64;
/** Port of the embedded signaling server when `--signal` is not given (0 = any free port). */
export const DEFAULT_EMBEDDED_SIGNAL_PORT = 8787;
/** How often the live stats line is printed, milliseconds. */
export const DEFAULT_STATS_INTERVAL_MS = 1_000;
/** The bundled default model, `models/default` at the repository root. */
export const DEFAULT_BUNDLE_DIR = fileURLToPath(new URL('../../../models/default', import.meta.url));

/**
 * Control messages a receiver may send per second, and in a burst. A well-behaved receiver sends about two
 * a second (a link report and a decode report) plus an instruction when its user switches task; 20/s with
 * a burst of 40 leaves room for a user typing, and bounds what a hostile receiver costs the sender.
 */
export const CONTROL_RATE_PER_SEC = 20;
export const CONTROL_BURST = 40;
/**
 * How often a sender asks its receivers for link reports (the `hello`'s `reportMs`), ms: with adaptation, every
 * 100 ms (each over the last 500 ms), so the report the policy decides on is at most that old; without it the
 * reports only feed the stats, and once an interval spares a room of 128 receivers ~1 000 messages a second
 * (docs/SCALE.md).
 */
export const ADAPTATION_REPORT_MS = 100;
export const STATS_REPORT_MS = 500;
/** A receiver that keeps exceeding the control rate for this long is disconnected, milliseconds. */
export const CONTROL_ABUSE_CLOSE_MS = 10_000;

/**
 * Signaling heartbeat, milliseconds: a ping unanswered by the next one means the path to the signaling server is
 * dead (a path change leaves TCP open for minutes), and the client rejoins. Two seconds is ~1 small message a
 * second per client for the server, and finds a dead path within 4 s.
 */
export const SIGNALING_HEARTBEAT_MS = 2_000;
/** Longest wait between two rejoin attempts, milliseconds: after a path change, signaling must be back within about a second of the network, so that the ICE restart can go through it. */
export const SIGNALING_RETRY_MAX_DELAY_MS = 1_000;
/** Rejoin attempts before giving up: with the 1 s ceiling, about five minutes. */
export const SIGNALING_RETRY_MAX_ATTEMPTS = 300;
