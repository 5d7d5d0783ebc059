import { percentile } from '@m4sc/transport';
import { type Observable, Subject } from 'rxjs';
import type { SampleLoop } from './sampleLoop.js';
import type { SamplePipeline } from './samplePipeline.js';
import { describeInstruction, type Session } from './session.js';
import type { ReceiverInfo, SenderStats } from './types.js';

/** One receiver as `Sender.receivers()` and `stats$` report it. */
export function receiverInfo(s: Session): ReceiverInfo {
  return {
    peerId: s.peerId,
    state: s.state,
    task: describeInstruction(s.instruction),
    stream: s.servedKey,
    bytes: { ...s.bytes },
    controlRefused: s.controlRefused,
    pauseSkipped: s.pauseSkipped ?? 0,
    link: s.stats,
    decode: s.decode,
    op: s.decision
      ? {
          name: (s.codedOp ?? s.decision.privateOp).name,
          lossRate: (s.codedOp ?? s.decision.privateOp).lossRate,
          publicLayers: s.decision.publicLayers,
          reason: s.decision.reason,
        }
      : undefined,
  };
}

/** What {@link createSenderStats} needs. */
export interface SenderStatsOptions {
  /** How often `stats$` emits, ms. */
  intervalMs: number;
  loop: SampleLoop;
  pipeline: SamplePipeline;
  /** The sessions now, in join order. */
  sessions(): Iterable<Session>;
}

/** Assembles the sender's figures every `intervalMs`. */
export interface SenderStatsReporter {
  /** Live figures. Completes on close. */
  readonly stats$: Observable<SenderStats>;
  /** Current receivers. */
  receivers(): ReceiverInfo[];
  /** Stops emitting (the sender is closing). */
  stop(): void;
  /** Stops emitting and completes `stats$`. Idempotent. */
  close(): void;
}

/** Starts the stats timer at once. */
export function createSenderStats(o: SenderStatsOptions): SenderStatsReporter {
  const { loop, pipeline } = o;
  const stats$ = new Subject<SenderStats>();
  const receivers = () => [...o.sessions()].map(receiverInfo);
  let samplesAtLastStats = 0;
  let lastStatsMs = Date.now();
  const statsTimer = setInterval(() => {
    const now = Date.now();
    const dt = (now - lastStatsMs) / 1000;
    const samples = loop.samples;
    const sorted = loop.takeEncodeMs().sort((a, b) => a - b);
    stats$.next({
      timestampMs: now,
      samples,
      fps: dt > 0 ? (samples - samplesAtLastStats) / dt : 0,
      skipped: loop.skipped,
      publicEncodes: pipeline.publicEncodes,
      privateEncodes: pipeline.privateEncodes,
      encodeMsP50: sorted.length ? percentile(sorted, 50) : 0,
      encodeMsP95: sorted.length ? percentile(sorted, 95) : 0,
      publicBytesPerSample: pipeline.publicBytesPerSample,
      privateBytesPerSample: pipeline.privateBytesPerSample,
      receivers: receivers(),
    });
    samplesAtLastStats = samples;
    lastStatsMs = now;
  }, o.intervalMs);

  return {
    stats$: stats$.asObservable(),
    receivers,
    stop() {
      clearInterval(statsTimer);
    },
    close() {
      clearInterval(statsTimer);
      stats$.complete();
    },
  };
}
