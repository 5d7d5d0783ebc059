import { ICE_RESTART_DELAYS_MS } from './defaults.js';

/** What an ICE-restart policy knows when it decides. */
export interface IceRestartContext {
  /** 1 for the first restart after the link went `disconnected`, then 2, 3, … */
  readonly attempt: number;
  /** How long the link has been `disconnected`, milliseconds. */
  readonly disconnectedForMs: number;
}

/** Decides when the offerer of a `disconnected` link restarts ICE (again), as livekit's `ReconnectPolicy` does. */
export interface IceRestartPolicy {
  /** Delay before restart number `attempt`, milliseconds, or `null` to stop restarting (the link then fails). */
  nextRestartDelayMs(context: IceRestartContext): number | null;
}

/**
 * The default policy: the first restart at once, then after 1, 2 and 3 s, then every 3 s, until the link has been
 * `disconnected` for `disconnectedTimeoutMs` (the link's own limit ends it then).
 */
export function createIceRestartBackoff(
  delaysMs: readonly number[] = ICE_RESTART_DELAYS_MS,
): IceRestartPolicy {
  if (delaysMs.length === 0 || delaysMs.some((d) => !(Number.isFinite(d) && d >= 0))) {
    throw new TypeError('createIceRestartBackoff: delaysMs must be a non-empty list of non-negative numbers');
  }
  const delays = [...delaysMs];
  return {
    nextRestartDelayMs: ({ attempt }) => delays[Math.min(attempt, delays.length) - 1]!,
  };
}
