import type { Instruction, InstructionMessage, OperatingPoint, SenderToReceiver } from '@m4sc/semantic-codec';
import type { Logger } from '@m4sc/signaling';
import type { LinkStats, PeerLink, TokenBucket } from '@m4sc/transport';
import type { Subscription } from 'rxjs';
import type { Decision } from './adaptation.js';
import type { RelayReport } from './relayFigures.js';

/** One receiver as the sender keeps it. Owned by the receiver sessions manager (receiverSessions.ts), which closes it. */
export interface Session {
  readonly peerId: string;
  readonly link: PeerLink;
  /** Join order, for deterministic sharing groups. */
  readonly order: number;
  state: 'connecting' | 'connected' | 'closed';
  stats: LinkStats | undefined;
  /** The adaptation policy's latest decision for this receiver (semantic mode with adaptation on). */
  decision: Decision | undefined;
  /**
   * The point its private stream was last coded at: the decision's, capped at the sender's private point, conditioned
   * on the worst loss in its sharing group. Undefined until a private sample went to it (public tasks: never).
   */
  codedOp?: OperatingPoint | undefined;
  /** The receiver's current instruction (semantic mode), and the control message that set it. */
  instruction: Instruction | undefined;
  request: InstructionMessage | undefined;
  /** Public layers it was last told to take from the relay (`relay-layers`), to resend only on change. */
  relayLayers?: number | undefined;
  /** Its latest report of what the relay path delivered (`relay-report`), with when it came, ms. */
  relayReport?: (RelayReport & { atMs: number }) | undefined;
  /** Tag of the stream that currently serves it (sent in `serve`), to resend only on change. */
  servedKey: string | undefined;
  /** Until when its samples are skipped (a drain pause the adaptation decided, `Decision.pauseMs`), Date.now() ms. */
  pausedUntilMs?: number | undefined;
  /** Samples (each stream's, each layer's) skipped for it by such pauses since it joined. */
  pauseSkipped?: number | undefined;
  /** Bytes handed to the link for this receiver, per stream kind, since it joined. */
  bytes: { public: number; private: number; shared: number };
  /** Latest decode report from the receiver. */
  decode:
    | { decodeMsP50: number; decodeMsP95: number; latencyMsP50: number; latencyMsP95: number }
    | undefined;
  subs: Subscription[];
  /** Rate limit on its control messages (one token a message), and what it refused. */
  controlBucket: TokenBucket;
  controlRefused: number;
  lastRefusalLogMs: number;
  /** Since when it has been over the control rate limit without a break, ms. */
  abuseSinceMs?: number | undefined;
  /** When it last went over the control rate limit, ms. */
  lastOverLimitMs?: number | undefined;
}

/** `task` or `task: query`, as logs and `ReceiverInfo.task` show an instruction. */
export const describeInstruction = (i: Instruction | undefined): string | undefined =>
  i ? (i.query.length ? `${i.task}: ${i.query.join(' ')}` : i.task) : undefined;

/** Sends `msg` on the session's control channel unless it is closed; a full queue is logged, not thrown. */
export function sendControl(s: Session, msg: SenderToReceiver, log: Logger): void {
  if (s.state !== 'closed' && !s.link.sendControl(msg)) log.warn('control queue full', { peerId: s.peerId });
}
