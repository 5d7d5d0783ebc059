import type { Logger } from '@m4sc/signaling/client';

/** Logs a warning at most once a second per kind: a hostile or broken sender cannot flood the log. */
export type LimitedWarn = (kind: string, message: string, context: Record<string, unknown>) => void;

/** A {@link LimitedWarn} over `log` (each kind's drops are still counted by the caller). */
export function createLimitedWarn(log: Logger): LimitedWarn {
  const lastWarnMs = new Map<string, number>();
  return (kind, message, context) => {
    const now = Date.now();
    if (now - (lastWarnMs.get(kind) ?? 0) < 1000) return;
    lastWarnMs.set(kind, now);
    log.warn(message, context);
  };
}
