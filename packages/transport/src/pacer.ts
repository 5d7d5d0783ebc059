import { type Clock, systemClock } from './clock.js';
import {
  DEFAULT_PACER_BURST_BYTES,
  DEFAULT_PACER_RATE_BYTES_PER_SEC,
  DEFAULT_PACER_SLICE_BYTES,
} from './defaults.js';

/**
 * A token bucket in bytes: the pure core of the pacer. A send may overdraw it (a message is never split), and
 * the debt is repaid before the next send, so the long-run rate holds for messages larger than the bucket.
 */
export class TokenBucket {
  readonly rateBytesPerSec: number;
  readonly burstBytes: number;
  #tokens: number;
  #lastMs: number;

  constructor(rateBytesPerSec: number, burstBytes: number, nowMs: number) {
    if (!(Number.isFinite(rateBytesPerSec) && rateBytesPerSec > 0)) {
      throw new TypeError(`rateBytesPerSec must be a positive number, got ${rateBytesPerSec}`);
    }
    if (!(Number.isFinite(burstBytes) && burstBytes > 0)) {
      throw new TypeError(`burstBytes must be a positive number, got ${burstBytes}`);
    }
    this.rateBytesPerSec = rateBytesPerSec;
    this.burstBytes = burstBytes;
    this.#tokens = burstBytes;
    this.#lastMs = nowMs;
  }

  /** Tokens available at `nowMs` (negative while in debt). */
  tokens(nowMs: number): number {
    const elapsed = Math.max(0, nowMs - this.#lastMs);
    this.#tokens = Math.min(this.burstBytes, this.#tokens + (elapsed * this.rateBytesPerSec) / 1000);
    this.#lastMs = Math.max(this.#lastMs, nowMs);
    return this.#tokens;
  }

  /** True when a send may start now. */
  canSend(nowMs: number): boolean {
    return this.tokens(nowMs) > 0;
  }

  /** Charges a send of `bytes`. */
  take(bytes: number, nowMs: number): void {
    this.tokens(nowMs);
    this.#tokens -= bytes;
  }

  /** Milliseconds until a send may start (0 when it may now). */
  waitMs(nowMs: number): number {
    const t = this.tokens(nowMs);
    return t > 0 ? 0 : Math.ceil(((1 - t) * 1000) / this.rateBytesPerSec);
  }
}

/** Something the pacer drains: a link's send queues. */
export interface PacedSource {
  /** Sends at most one message if it has one it may send now; returns its size in bytes, 0 if none. */
  pump(): number;
}

/** A source's handle on the pacer. */
export interface PacerRegistration {
  /** Tells the pacer the source may have something to send (new message, buffer drained). */
  wake(): void;
  /** Removes the source. Idempotent. */
  unregister(): void;
}

/** Paces every send of the links registered with it, across all of them, at one rate. */
export interface Pacer {
  readonly rateBytesPerSec: number;
  register(source: PacedSource): PacerRegistration;
}

/** Options of {@link createPacer}. */
export interface PacerOptions {
  /** Rate across all registered links, bytes/s. Default 2,000,000. */
  rateBytesPerSec?: number;
  /** Token-bucket depth, bytes. Default 32 KiB. */
  burstBytes?: number;
  /** Most bytes sent per event-loop turn, bytes. Default 16 KiB. */
  sliceBytes?: number;
  /** Time source. Default `Date.now()`. */
  clock?: Clock;
}

type Immediate = (fn: () => void) => void;
/** Runs `fn` after the I/O this turn of the event loop reads (`setImmediate`; a 0 ms timeout in a browser). */
export const immediate: Immediate =
  typeof globalThis.setImmediate === 'function'
    ? (fn) => {
        globalThis.setImmediate(fn);
      }
    : (fn) => {
        setTimeout(fn, 0);
      };

/**
 * Creates a pacer: a token bucket shared by all registered sources, drained round-robin in slices of at most
 * `sliceBytes` per event-loop turn, so no link can starve another and werift never sees a large synchronous burst.
 */
export function createPacer(options: PacerOptions = {}): Pacer {
  const clock = options.clock ?? systemClock;
  const rate = options.rateBytesPerSec ?? DEFAULT_PACER_RATE_BYTES_PER_SEC;
  const sliceBytes = options.sliceBytes ?? DEFAULT_PACER_SLICE_BYTES;
  if (!(Number.isFinite(sliceBytes) && sliceBytes > 0)) {
    throw new TypeError(`sliceBytes must be a positive number, got ${sliceBytes}`);
  }
  const bucket = new TokenBucket(rate, options.burstBytes ?? DEFAULT_PACER_BURST_BYTES, clock.nowMs());
  const sources: PacedSource[] = [];
  let cursor = 0;
  let scheduled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const schedule = (delayMs: number) => {
    if (scheduled) return;
    scheduled = true;
    if (delayMs <= 0) immediate(run);
    else timer = setTimeout(run, delayMs);
  };

  function run(): void {
    scheduled = false;
    timer = undefined;
    let sent = 0;
    for (;;) {
      if (sources.length === 0) return;
      const now = clock.nowMs();
      if (!bucket.canSend(now)) {
        schedule(bucket.waitMs(now));
        return;
      }
      let progress = false;
      for (let i = 0; i < sources.length; i++) {
        cursor = (cursor + 1) % sources.length;
        const n = sources[cursor]!.pump();
        if (n > 0) {
          // One clock read per send: at tens of thousands of messages/s the reads showed in profiles.
          const after = clock.nowMs();
          bucket.take(n, after);
          sent += n;
          progress = true;
          if (sent >= sliceBytes) {
            schedule(0);
            return;
          }
          if (!bucket.canSend(after)) break;
        }
      }
      // Nothing sendable anywhere: sleep until a source wakes the pacer.
      if (!progress) return;
    }
  }

  return {
    rateBytesPerSec: rate,
    register(source) {
      sources.push(source);
      let registered = true;
      return {
        wake() {
          if (registered) schedule(0);
        },
        unregister() {
          if (!registered) return;
          registered = false;
          const i = sources.indexOf(source);
          if (i >= 0) sources.splice(i, 1);
          if (sources.length === 0 && timer !== undefined) {
            clearTimeout(timer);
            timer = undefined;
            scheduled = false;
          }
        },
      };
    },
  };
}

let shared: Pacer | undefined;

/** The process-wide pacer every link uses unless given its own: werift's limits are per process. */
export function getSharedPacer(): Pacer {
  shared ??= createPacer();
  return shared;
}
