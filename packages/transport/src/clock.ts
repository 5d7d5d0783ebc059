/** The source of time for everything in this package; tests inject a manual one. */
export interface Clock {
  /** Milliseconds on a monotonic-enough wall clock (sender capture timestamps use the same scale). */
  nowMs(): number;
}

/** `Date.now()`: capture timestamps cross processes, so the clock must be wall time, not `performance.now()`. */
export const systemClock: Clock = Object.freeze({ nowMs: () => Date.now() });
