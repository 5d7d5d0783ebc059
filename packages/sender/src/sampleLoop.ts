import type { Logger } from '@m4sc/signaling';
import type { Session } from './session.js';
import type { Source, SourceSample } from './sources/source.js';

/** What {@link createSampleLoop} needs. */
export interface SampleLoopOptions {
  /** Where samples come from; the loop closes it. */
  source: Source;
  /** Samples per second. */
  fps: number;
  /** The receivers to send the next sample to (none: the sample is taken, not sent). */
  connected(): Session[];
  /** True once the sender is closing. */
  senderClosed(): boolean;
  /** Encodes and sends one sample; resolves with the receivers it went to. */
  send(sample: SourceSample, connected: Session[], captureTsMs: number): Promise<string[]>;
  /** Called after each sample is handed to the links, with the receivers it went to. */
  onSampleSent: ((seq: number, peerIds: readonly string[]) => void) | undefined;
  log: Logger;
}

/**
 * Takes a sample from the source every 1/fps second and sends it, skipping a tick while the previous sample
 * is still encoding (the encoder is slower than the fps).
 */
export interface SampleLoop {
  /** Resolves once when a finite source has ended or failed (or the sender closed). */
  readonly ended: Promise<Error | undefined>;
  /** Samples taken from the source since start. */
  readonly samples: number;
  /** Ticks skipped because the previous sample was still encoding. */
  readonly skipped: number;
  /** Encode-and-send times since the last call, ms. */
  takeEncodeMs(): number[];
  /**
   * How much the sender itself delays samples now: the median capture-to-link time of the samples handed
   * over in the last 500 ms above the shortest of the last 10 s, ms (0 when none). A receiver sees this rise
   * in the age of every sample, whatever its path: the adaptation subtracts it from a queue the receiver reports.
   */
  delayRiseMs(): number;
  /** Stops the timer; resolves when the sample in flight is done. */
  stop(): Promise<void>;
  /** Closes the source and settles `ended`. */
  close(): void;
}

/** Windows of {@link SampleLoop.delayRiseMs}: its baseline and what counts as now, ms. */
const DELAY_WINDOW_MS = 10_000;
const DELAY_RECENT_MS = 500;

/** Starts the sample loop at once. */
export function createSampleLoop(o: SampleLoopOptions): SampleLoop {
  const { source, log } = o;
  let samples = 0;
  let skipped = 0;
  let encodeMs: number[] = [];
  /** Capture-to-link delay of each recent sample: when it was handed over (Date.now() ms) and the delay. */
  const delays: { atMs: number; ms: number }[] = [];
  let busy = false;
  let inflight: Promise<void> = Promise.resolve();
  let sourceDone = false;
  let resolveEnded!: (e: Error | undefined) => void;
  const ended = new Promise<Error | undefined>((r) => (resolveEnded = r));

  const tick = async () => {
    if (o.senderClosed() || sourceDone) return;
    busy = true;
    try {
      const sample = await source.next();
      if (!sample) {
        sourceDone = true;
        log.info('source ended', { source: source.description });
        resolveEnded(undefined);
        return;
      }
      samples++;
      const captureTsMs = Date.now();
      const connected = o.connected();
      if (connected.length === 0 || o.senderClosed()) return;
      const t0 = performance.now();
      const sentTo = await o.send(sample, connected, captureTsMs);
      o.onSampleSent?.(sample.index, sentTo);
      const ms = performance.now() - t0;
      encodeMs.push(ms);
      const now = Date.now();
      delays.push({ atMs: now, ms });
      while (delays.length > 0 && delays[0]!.atMs < now - DELAY_WINDOW_MS) delays.shift();
    } catch (err) {
      if ((err as Error).name === 'SourceError') {
        sourceDone = true;
        log.error('source failed', { error: (err as Error).message });
        resolveEnded(err as Error);
      } else {
        log.error('sample failed', { error: (err as Error).message });
      }
    } finally {
      busy = false;
    }
  };

  const frameTimer = setInterval(() => {
    if (!busy) inflight = tick();
    else skipped++;
  }, 1000 / o.fps);

  return {
    ended,
    get samples() {
      return samples;
    },
    get skipped() {
      return skipped;
    },
    delayRiseMs() {
      const now = Date.now();
      let min = Number.POSITIVE_INFINITY;
      const recent: number[] = [];
      for (const d of delays) {
        if (d.atMs < now - DELAY_WINDOW_MS) continue;
        min = Math.min(min, d.ms);
        if (d.atMs >= now - DELAY_RECENT_MS) recent.push(d.ms);
      }
      if (recent.length === 0) return 0;
      recent.sort((a, b) => a - b);
      return Math.max(0, recent[Math.floor(recent.length / 2)]! - min);
    },
    takeEncodeMs() {
      const taken = encodeMs;
      encodeMs = [];
      return taken;
    },
    async stop() {
      clearInterval(frameTimer);
      await inflight; // the model may still be running on the last sample
    },
    close() {
      clearInterval(frameTimer);
      source.close();
      resolveEnded(undefined);
    },
  };
}
