import type { Observable } from 'rxjs';
import type { Logger } from '../logger.js';
import type { Pacer } from '../pacer.js';
import type { PeerConnectionLike, ReassembledSample, SampleInput } from '../types.js';
import type { WebSocketFactory } from './janusSession.js';
import type { RelayAddress } from './relayUrl.js';

/**
 * `connecting`: first attempt under way. `up`: the data channel to Janus is open. `down`: it was lost and
 * the relay is reconnecting on its own. `closed`: `close()` was called (or the reconnect policy gave up).
 */
export type RelayState = 'connecting' | 'up' | 'down' | 'closed';

/** What a reconnect policy is told about the outage so far. */
export interface ReconnectContext {
  /** Failed attempts since the relay was last up (0 before the first retry). */
  attempt: number;
  /** Milliseconds since the relay was last up (or since start). */
  elapsedMs: number;
  /** Why the last attempt failed or the connection was lost. */
  lastError: Error | undefined;
}

/** When to try again, in the shape of livekit's ReconnectPolicy: `null` gives up. */
export interface ReconnectPolicy {
  nextRetryDelayMs(context: ReconnectContext): number | null;
}

/** Options shared by the relay publisher and subscriber. */
export interface RelayCommonOptions {
  /** `janus://HOST:PORT/ROOM`. */
  url: string;
  /** Creates the RTCPeerConnection to Janus (werift in Node, the native one in browsers). */
  createPeerConnection: () => PeerConnectionLike;
  /** Opens Janus's WebSocket. Default `globalThis.WebSocket`; Node 20 passes `nodeWebSocketFactory` (`./janus/node`). */
  createWebSocket?: WebSocketFactory;
  /** Reconnect policy. Default: 250 ms doubling to 1 s, forever (a restarted Janus is found within ~1 s). */
  reconnect?: ReconnectPolicy;
  /** Janus request and connection timeout, milliseconds. Default 5000. */
  timeoutMs?: number;
  /** Display name of the sender's feed in the room: how subscribers find it. Default `m4sc-sender`. */
  display?: string;
  /** Keep only local candidates whose address passes, in the SDP sent to Janus. Default: keep all. */
  localCandidateFilter?: (address: string) => boolean;
  logger?: Logger;
}

/** Options of {@link createJanusPublisher}. */
export interface JanusPublisherOptions extends RelayCommonOptions {
  /**
   * Further Janus instances (`janus://HOST:PORT/ROOM`) fed from the first by Janus's own forwarding
   * (VideoRoom `publish_remotely` → `add_remote_publisher`): the sender still uploads once. HOST must be
   * reachable from the first Janus. Default none.
   */
  cascade?: readonly string[];
  /** Pacer for the uplink. Default: the process-wide shared pacer (werift's limits are per process). */
  pacer?: Pacer;
  /** Largest data-channel message, bytes. Default 1200 (the link's MTU). */
  mtuBytes?: number;
  /** Budget for the encoded op of each frame, bytes. Default 128 (the sender's). */
  opBudgetBytes?: number;
}

/** Options of {@link createJanusSubscriber}. */
export interface JanusSubscriberOptions extends RelayCommonOptions {
  /** Reassembly deadline after a sample's first packet, milliseconds. Default 150 (the link's). */
  reassemblyTimeoutMs?: number;
  /** Drop samples older than this, milliseconds. Default 1000 (the link's). */
  maxAgeMs?: number;
  /**
   * With nothing received for this long while up, look for a newer feed (the sender or an upstream Janus
   * restarted: Janus tells a cascaded room's subscribers nothing when a remote feed goes). Default 1000.
   */
  idleCheckMs?: number;
}

/** Counters of a relay publisher since it was created. */
export interface RelayPublisherStats {
  state: RelayState;
  feedId: string | undefined;
  samples: number;
  packets: number;
  bytes: number;
  /** Samples handed over while the relay was not up (dropped: the sender serves receivers directly then). */
  droppedNotUp: number;
  droppedBackpressure: number;
  droppedStale: number;
  queuedBytes: number;
  /** Times the relay came back up after being lost. */
  reconnects: number;
  /** Downstream Janus instances currently fed. */
  cascades: number;
}

/** The sender's side: the public stream, uploaded once to a Janus VideoRoom. */
export interface RelayPublisher {
  readonly address: RelayAddress;
  readonly state: RelayState;
  /** State changes. Completes on close. */
  readonly state$: Observable<RelayState>;
  /** This publisher's feed id in the room, while joined. */
  readonly feedId: string | undefined;
  /** Payload bytes one packet may carry so its frame fits the MTU. */
  readonly maxPacketPayloadBytes: number;
  stats(): RelayPublisherStats;
  /**
   * Queues a sample (framed exactly as on a direct link; `stream` names it). Returns false, and drops it,
   * when the relay is not up. Throws InvalidStateError after close.
   */
  sendSample(sample: SampleInput & { stream: string }): boolean;
  /** Leaves the room, stops any cascade, closes the connection. Idempotent. */
  close(): Promise<void>;
}

/** Counters of a relay subscriber since it was created. */
export interface RelaySubscriberStats {
  state: RelayState;
  feedId: string | undefined;
  messages: number;
  bytes: number;
  malformed: number;
  samples: number;
  reconnects: number;
  /**
   * Packets the feed sent while we were subscribed, from the packet numbers of the frames that came (so it counts
   * wholly lost samples too; an outage between two subscriptions is not counted: the direct path serves then).
   */
  packetsExpected: number;
  /** Of those, packets that never came. */
  lostPackets: number;
  /** Wall-clock time of the last frame received, ms since the epoch (0: none yet). */
  lastMessageAtMs: number;
}

/** A receiver's side: the public stream from a Janus VideoRoom, reassembled. */
export interface RelaySubscriber {
  readonly address: RelayAddress;
  readonly state: RelayState;
  readonly state$: Observable<RelayState>;
  readonly feedId: string | undefined;
  /** Reassembled samples, exactly as a direct link's `samples$` (channel `public`). Completes on close. */
  readonly samples$: Observable<ReassembledSample>;
  /** The sender's clock minus ours, milliseconds (take it from the direct link's stats); default 0. */
  clockOffsetMs: number;
  stats(): RelaySubscriberStats;
  close(): Promise<void>;
}
