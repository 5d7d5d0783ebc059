import type { OperatingPoint } from '@m4sc/semantic-codec';
import type { Logger } from '@m4sc/signaling';
import type { LinkStats } from '@m4sc/transport';
import type { AdaptationContext, AdaptationPolicy, Decision } from './adaptation.js';
import { cheaper, PUBLIC_TASKS, privateSampleBytes } from './operatingPoints.js';
import type { RelayPath } from './relayPath.js';
import type { Session } from './session.js';

/** What {@link createLinkAdaptation} needs. */
export interface LinkAdaptationOptions {
  /** The policy that decides; `false` keeps every receiver at the fixed operating point. */
  policy: AdaptationPolicy | false;
  /** The private streams' operating point: a receiver's decision may only go cheaper. */
  privateOp: OperatingPoint | undefined;
  /** Tokens per sample of the bundle (`dims.P`), for the private stream's rate. */
  tokens: number | undefined;
  /** Samples per second. */
  fps: number;
  /** For receivers that take the public stream from the relay: their figures cover both paths. */
  relay: RelayPath;
  /** Bytes of each public layer of the last sample. */
  layerBytes(): readonly number[];
  /** How much the sender's own processing delays samples now, ms (`SampleLoop.delayRiseMs`). */
  senderDelayRiseMs?(): number;
  log: Logger;
  /**
   * Called with every receiver's figures as the policy sees them (whether or not adaptation is on) and, when it
   * is on, its decision: the adaptation log (`m4sc-send --adapt-log`), for replaying a link through a policy.
   */
  trace?: (entry: AdaptationTraceEntry) => void;
}

/** One line of the adaptation log: a policy's input, and its output when adaptation is on. */
export interface AdaptationTraceEntry {
  readonly ctx: AdaptationContext;
  readonly decision?: Pick<Decision, 'level' | 'publicLayers' | 'reason' | 'pauseMs' | 'changed'> & {
    readonly op: string;
  };
}

/** Turns each receiver's link figures into its operating point and public layers (`Session.decision`). */
export interface LinkAdaptation {
  /** Records a receiver's new link figures and, when it is connected and adaptation is on, decides again. */
  onLinkStats(s: Session, stats: LinkStats): void;
  /** Forgets a receiver that left. */
  forget(peerId: string): void;
}

/** Per-receiver link adaptation (`--adapt`) over `o.policy`. */
export function createLinkAdaptation(o: LinkAdaptationOptions): LinkAdaptation {
  const { policy, fps, log } = o;
  return {
    onLinkStats(s, st) {
      const previous = s.stats;
      s.stats = st;
      if (s.state !== 'connected' || (!policy && !o.trace)) return;
      const priv = o.privateOp && cheaper(s.decision?.privateOp, o.privateOp);
      const lastLayerBytes = o.layerBytes();
      const ctx: AdaptationContext = {
        peerId: s.peerId,
        nowMs: st.timestampMs,
        senderDelayRiseMs: o.senderDelayRiseMs?.() ?? 0,
        link: o.relay.linkFigures(s, st, previous, lastLayerBytes, fps),
        stream: {
          publicLayerBytesPerSec: lastLayerBytes.map((b) => b * fps),
          // A private sample is P tokens × rate symbols × bits, plus the packet header.
          privateBytesPerSec:
            priv && s.instruction && !PUBLIC_TASKS.has(s.instruction.task)
              ? privateSampleBytes(priv, o.tokens!) * fps
              : 0,
        },
      };
      if (!policy) {
        o.trace?.({ ctx });
        return;
      }
      const d = policy.decide(ctx);
      o.trace?.({
        ctx,
        decision: {
          level: d.level,
          op: d.privateOp.name,
          publicLayers: d.publicLayers,
          reason: d.reason,
          pauseMs: d.pauseMs,
          changed: d.changed,
        },
      });
      if (d.changed || !s.decision) {
        log.info('operating point', {
          peerId: s.peerId,
          op: d.privateOp.name,
          layers: d.publicLayers,
          reason: d.reason,
        });
      }
      s.decision = d;
      if (d.pauseMs > 0) s.pausedUntilMs = Date.now() + d.pauseMs;
    },
    forget(peerId) {
      if (policy) policy.forget(peerId);
    },
  };
}
