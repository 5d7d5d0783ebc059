import type { ReconnectPolicy } from './types.js';

/** Options of {@link createBackoffPolicy}. */
export interface BackoffPolicyOptions {
  /** First retry delay, milliseconds. Default 250. */
  initialDelayMs?: number;
  /** Largest delay, milliseconds. Default 1000: a Janus back after a restart is found within ~1 s. */
  maxDelayMs?: number;
  /** Give up after this long without success, milliseconds. Default never. */
  giveUpAfterMs?: number;
}

/** Doubling delays from `initialDelayMs` up to `maxDelayMs`; `null` (give up) after `giveUpAfterMs`. */
export function createBackoffPolicy(options: BackoffPolicyOptions = {}): ReconnectPolicy {
  const initial = options.initialDelayMs ?? 250;
  const max = options.maxDelayMs ?? 1000;
  if (!(initial > 0 && max >= initial))
    throw new TypeError('backoff delays must satisfy 0 < initialDelayMs <= maxDelayMs');
  return {
    nextRetryDelayMs({ attempt, elapsedMs }) {
      if (options.giveUpAfterMs !== undefined && elapsedMs >= options.giveUpAfterMs) return null;
      return Math.min(max, initial * 2 ** Math.min(attempt, 20));
    },
  };
}
