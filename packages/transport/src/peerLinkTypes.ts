import type { Observable } from 'rxjs';
import type { Clock } from './clock.js';
import type { IceRestartPolicy } from './iceRestart.js';
import type { ImpairmentOptions } from './impairment.js';
import type { QueueTrendOptions } from './linkMonitor.js';
import type { Logger } from './logger.js';
import type { Pacer } from './pacer.js';
import type {
  ChannelKind,
  DataChannelLike,
  LinkState,
  LinkStats,
  PeerConnectionLike,
  PeerSignal,
  ReassembledSample,
  SampleChannel,
  SampleInput,
} from './types.js';

/** Options of {@link createPeerLink}. Each field states its default and unit. */
export interface PeerLinkOptions {
  /** The peer connection: werift's in Node (`createWeriftPeerConnection`), the native one in browsers. The link owns it and closes it. Required. */
  pc: PeerConnectionLike;
  /** Which side sends the offer. Required. */
  role: 'offerer' | 'answerer';
  /** Where the link's offer/answer/candidates go (e.g. a ws signaling client). Required. */
  sendSignal: (signal: PeerSignal) => void;
  /** Largest framed message on `public`/`private`, bytes. Default 1200. */
  mtuBytes?: number;
  /** Room for the encoded operating point in each header, bytes. Default 96. */
  opBudgetBytes?: number;
  /** Stream ids written in sent frames. Default `{ public: 'public', private: 'private' }`; a sender names the private one `private:<receiverId>`. */
  streamIds?: { public?: string; private?: string };
  /** Reassembly deadline after a sample's first packet, milliseconds. Default 150. */
  reassemblyTimeoutMs?: number;
  /** Freshness limit, both on the sender's queue and at the receiver, milliseconds. Default 1000. */
  maxAgeMs?: number;
  /** `connected` rejects with ConnectionError('timeout') after this, milliseconds. Default 20000. */
  connectTimeoutMs?: number;
  /** Wait for ICE gathering before sending a description, milliseconds. Default 3000. */
  gatherTimeoutMs?: number;
  /** Period of `stats$` and pings, and the window each link report covers, milliseconds. Default 500. */
  statsIntervalMs?: number;
  /** Send `link-report`s to the peer, every `linkReportIntervalMs`. Default true. */
  autoLinkReport?: boolean;
  /**
   * Period of the link reports, each over the last `statsIntervalMs` (a sliding window), milliseconds; at most
   * `statsIntervalMs`. The peer's adaptation decides on its own interval with the latest report: the shorter
   * this, the less that report lags its figures (~2 kB/s of reports at 100 ms). Default 500 (or `statsIntervalMs`
   * if less); an M4SC receiver takes what its sender's `hello` asks for (100 ms when it adapts).
   */
  linkReportIntervalMs?: number;
  /**
   * Early reports: when the ages of arriving samples show a queue building on the path (`QueueTrend`), send a
   * `link-report` at once, carrying the rise and the rate that arrived, instead of waiting for the interval;
   * at most every `minGapMs` (default 200). The peer's link emits `stats$` as soon as one arrives, so its
   * adaptation decides on it. `false` turns them off. Default on (with `autoLinkReport`).
   */
  earlyReport?: (QueueTrendOptions & { minGapMs?: number }) | false;
  /** A connected link with nothing received for this long becomes `disconnected`, milliseconds. Default 3000 (pings and link reports arrive every `statsIntervalMs`; must be above it). */
  staleAfterMs?: number;
  /** When the offerer restarts ICE on a `disconnected` link (new credentials over signaling; DTLS, SCTP and the channels are kept); `false` never restarts. The answerer answers restarts whatever this says. Default `createIceRestartBackoff()`: at once, then after 1, 2, 3, 3, … s. */
  iceRestart?: IceRestartPolicy | false;
  /** A link `disconnected` this long fails with ConnectionError('failed'), milliseconds. Default 60000. */
  disconnectedTimeoutMs?: number;
  /** Pacer shared by links. Default the process-wide one (2 MB/s). */
  pacer?: Pacer;
  /** Sample queue limit per unreliable channel, bytes. Default 256 KiB. */
  sampleQueueMaxBytes?: number;
  /** Sample queue limit per unreliable channel, samples. Default 64. */
  sampleQueueMaxSamples?: number;
  /** Control queue limit, messages. Default 1024. */
  controlQueueMaxMessages?: number;
  /** Stop handing messages to a channel above this `bufferedAmount`, bytes. Default 64 KiB. */
  sendBufferHighWatermarkBytes?: number;
  /** `bufferedAmountLowThreshold` of each channel, bytes. Default 16 KiB. Must be below the high watermark. */
  sendBufferLowWatermarkBytes?: number;
  /** Time source. Default `Date.now()`. */
  clock?: Clock;
  /** Where the link logs. Default silent. */
  logger?: Logger;
  /**
   * Fault injection on this end's receive side of `public` and `private` (STYLE §11): random or bursty
   * loss and delay applied to each incoming message before deframing, seeded. For examples, demos and
   * tests without root; the network lab impairs real links instead. Default none.
   */
  faults?: ImpairmentOptions & { seed?: number };
}

/** A WebRTC link to one peer: three data channels, framing, reassembly, pacing, backpressure and monitoring. */
export interface PeerLink {
  readonly role: 'offerer' | 'answerer';
  /** Largest framed message on the sample channels, bytes. */
  readonly mtuBytes: number;
  /** Largest packet payload that always fits in one frame, bytes: split sample payloads to this (`splitPayload`). */
  readonly maxPacketPayloadBytes: number;
  /** Resolves when all three channels are open; rejects with a ConnectionError (timeout, failed, closed, signaling). */
  readonly connected: Promise<void>;
  /** The current state. */
  readonly state: LinkState;
  /** State changes, starting with the current one; completes on close. */
  readonly state$: Observable<LinkState>;
  /** Application messages received on `control`, in order; completes on close. */
  readonly control$: Observable<unknown>;
  /** Samples received on `public` and `private`, complete or with holes; completes on close. */
  readonly samples$: Observable<ReassembledSample>;
  /** Link stats every `statsIntervalMs`; completes on close. */
  readonly stats$: Observable<LinkStats>;
  /** The raw data channels, for diagnostics and fault injection: sending on them bypasses framing, pacing and backpressure. */
  readonly channels: ReadonlyMap<ChannelKind, DataChannelLike>;
  /** Applies a signal from the peer (as given to its `sendSignal`). TypeError for a malformed signal. */
  handleSignal(signal: PeerSignal): void;
  /** Queues an application message on `control` (reliable, ordered, msgpack). False when the control queue is full. TypeError when not encodable or larger than 60 KiB. */
  sendControl(message: unknown): boolean;
  /** Queues a sample on `public` or `private`. When the queue is full the oldest whole samples are dropped (counted as backpressure). TypeError when a packet does not fit `mtuBytes`. */
  sendSample(channel: SampleChannel, sample: SampleInput): void;
  /** ICE restarts this link has started (offerer) or answered (answerer). */
  readonly iceRestarts: number;
  /**
   * Restarts ICE now (offerer only): new ICE credentials in an offer marked `restart`, sent through `sendSignal`;
   * the channels stay open. For a path change the application learns of (the peer rejoined signaling, a network
   * interface changed) before the link itself sees silence. InvalidStateError on the answerer, or unless the link
   * is `connected` or `disconnected`.
   */
  restartIce(reason: string): void;
  /**
   * Changes how often link reports go out (`linkReportIntervalMs`), from now on: a receiver follows what its sender
   * asks for. TypeError unless 1..`statsIntervalMs` ms; nothing happens with `autoLinkReport: false`.
   */
  setLinkReportInterval(ms: number): void;
  /** Sends this end's receive-side view (`link-report`, over the last stats interval) to the peer now (also done every `linkReportIntervalMs` unless `autoLinkReport` is false). */
  sendLinkReport(): void;
  /** Samples the `faults` injector dropped entirely (every packet), most recent last; at most 4096. */
  faultLostSamples(): { stream: string; seq: number }[];
  /**
   * Samples of which the receive path dropped a packet, or the whole sample, for arriving older than
   * `maxAgeMs` (counted in `stats.drops.stale`), most recent last; at most 4096 per channel. Such a sample may
   * still have been delivered, from its packets that were in time.
   */
  staleSamples(): { stream: string; seq: number }[];
  /** Closes channels and the peer connection, completes every observable. Idempotent. */
  close(): void;
}
