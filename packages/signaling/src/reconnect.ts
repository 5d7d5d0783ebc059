import {
  DEFAULT_RECONNECT_INITIAL_DELAY_MS,
  DEFAULT_RECONNECT_JITTER,
  DEFAULT_RECONNECT_MAX_ATTEMPTS,
  DEFAULT_RECONNECT_MAX_DELAY_MS,
} from './defaults.js';
import type { ConnectionError } from './errors.js';

/** What a reconnect policy knows when it decides. */
export interface ReconnectContext {
  /** 1 for the first retry after the connection dropped, then 2, 3, … */
  readonly attempt: number;
  /** Time since the connection dropped, in milliseconds. */
  readonly elapsedMs: number;
  /** Why the connection dropped, or why the previous retry failed. */
  readonly error: ConnectionError;
}

/** Decides whether and when a dropped client rejoins. */
export interface ReconnectPolicy {
  /** Delay before the next attempt, in milliseconds, or `null` to give up. */
  nextRetryDelayMs(context: ReconnectContext): number | null;
}

/** Options of {@link createExponentialBackoff}. */
export interface ExponentialBackoffOptions {
  /** First delay, in milliseconds. Default 250. */
  initialDelayMs?: number;
  /** Ceiling of one delay, in milliseconds. Default 10 000. */
  maxDelayMs?: number;
  /** Attempts before giving up. Default 10. */
  maxAttempts?: number;
  /** Random spread of each delay, as a fraction (0.2 = ±20 %). Default 0.2. */
  jitter?: number;
  /** Random source in [0, 1), for deterministic tests. Default `Math.random`. */
  random?: () => number;
}

/**
 * The default policy: delays double from `initialDelayMs` up to `maxDelayMs`, with jitter. It gives up
 * after `maxAttempts`, and at once when a token was refused (retrying cannot fix a bad or expired token).
 */
export function createExponentialBackoff(options: ExponentialBackoffOptions = {}): ReconnectPolicy {
  const initial = options.initialDelayMs ?? DEFAULT_RECONNECT_INITIAL_DELAY_MS;
  const max = options.maxDelayMs ?? DEFAULT_RECONNECT_MAX_DELAY_MS;
  const maxAttempts = options.maxAttempts ?? DEFAULT_RECONNECT_MAX_ATTEMPTS;
  const jitter = options.jitter ?? DEFAULT_RECONNECT_JITTER;
  const random = options.random ?? Math.random;
  if (!(initial >= 0) || !(max >= initial) || !(maxAttempts >= 0) || !(jitter >= 0 && jitter < 1)) {
    throw new TypeError(
      'createExponentialBackoff: need 0 <= initialDelayMs <= maxDelayMs, maxAttempts >= 0, 0 <= jitter < 1',
    );
  }
  return {
    nextRetryDelayMs({ attempt, error }) {
      if (attempt > maxAttempts) return null;
      if (error.reason === 'refused' && error.code?.startsWith('token-')) return null;
      const base = Math.min(max, initial * 2 ** (attempt - 1));
      return Math.round(base * (1 + jitter * (2 * random() - 1)));
    },
  };
}
