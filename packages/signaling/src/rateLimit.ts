/** Options of the per-connection rate limit (a token bucket). */
export interface RateLimitOptions {
  /** Refill rate, in messages per second. Default 50. */
  messagesPerSecond?: number;
  /** Bucket size: the burst allowed at once, in messages. Default 100. */
  burstMessages?: number;
  /**
   * Dropped messages after which the connection is closed (code 4029). The count restarts when the
   * bucket refills completely, i.e. once the client has been quiet long enough. Default 100.
   */
  closeAfterDroppedMessages?: number;
}

/** What the limiter decided for one message. */
export type RateDecision = 'allow' | 'drop' | 'close';

/**
 * A token bucket with a drop counter. Pure: time comes in as an argument, so it is tested without timers.
 */
export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #capacity: number;
  readonly #closeAfter: number;
  #tokens: number;
  #lastMs: number;
  #dropped = 0;

  constructor(ratePerSecond: number, capacity: number, closeAfterDropped: number, nowMs: number) {
    this.#ratePerMs = ratePerSecond / 1000;
    this.#capacity = capacity;
    this.#closeAfter = closeAfterDropped;
    this.#tokens = capacity;
    this.#lastMs = nowMs;
  }

  /** Messages dropped since the bucket was last full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Takes one token for a message arriving at `nowMs`. */
  take(nowMs: number): RateDecision {
    const elapsed = Math.max(0, nowMs - this.#lastMs);
    this.#lastMs = nowMs;
    this.#tokens = Math.min(this.#capacity, this.#tokens + elapsed * this.#ratePerMs);
    if (this.#tokens >= this.#capacity) this.#dropped = 0;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 'allow';
    }
    this.#dropped += 1;
    return this.#dropped >= this.#closeAfter ? 'close' : 'drop';
  }
}
