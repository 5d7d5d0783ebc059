/** The three data channels of a link. */
export type ChannelKind = 'control' | 'public' | 'private';
/** The two unreliable sample channels. */
export type SampleChannel = 'public' | 'private';

/** The operating point: opaque to the transport, a small msgpack-able object (rate, bits per symbol, conditioning…). */
export type OperatingPoint = Readonly<Record<string, unknown>>;

/** One sample to send: its packets are already split to fit (`splitPayload`, `maxPacketPayloadBytes`). */
export interface SampleInput {
  /** Sample sequence number, uint32, chosen by the caller (increasing per stream). */
  seq: number;
  /** Capture time, milliseconds on the sender's `Date.now()` scale. */
  captureTsMs: number;
  /** Operating point carried in every packet header. */
  op: OperatingPoint;
  /** The packets, in order; 1..1024 of them. */
  packets: readonly Uint8Array[];
  /**
   * Stream id written in this sample's frames, 1..48 bytes; default the link's `streamIds[channel]`.
   * Lets one channel carry several streams, e.g. the public stream and a `shared:<tag>` stream of results
   * shared by several receivers. Sequence numbers are per stream.
   */
  stream?: string;
}

/** A sample as the receiver hands it on: complete, or with holes after its deadline. */
export interface ReassembledSample {
  channel: SampleChannel;
  /** Stream id from the header (`public`, `private:<peer>`). */
  stream: string;
  seq: number;
  captureTsMs: number;
  op: OperatingPoint;
  /** One entry per packet index; `undefined` where the packet never arrived (the erasure mask). */
  packets: (Uint8Array | undefined)[];
  /** How many packets arrived. */
  received: number;
  /** How many packets the sample had. */
  count: number;
  /** `received === count`. */
  complete: boolean;
  /** When the first packet arrived, local clock milliseconds. */
  firstArrivalMs: number;
  /** Age at emission: local now − capture time, corrected by the estimated clock offset, milliseconds. */
  ageMs: number;
}

/** One decoded frame on an unreliable channel. */
export interface Frame {
  /** Stream id, 1..48 UTF-8 bytes. */
  stream: string;
  /** Per-channel packet sequence number (uint32, wraps), for loss measurement. */
  pseq: number;
  /** Sample sequence number, uint32. */
  seq: number;
  /** Packet index within the sample, 0..count−1. */
  index: number;
  /** Packets in the sample, 1..1024. */
  count: number;
  captureTsMs: number;
  op: OperatingPoint;
  payload: Uint8Array;
}

/** Signals a link hands to `sendSignal` and takes in `handleSignal`; plain JSON, so any relay (e.g. a ws server) can carry them. */
export type PeerSignal =
  /** `restart` marks an ICE-restart offer on an established link (new ICE credentials, same DTLS and channels). */
  | { type: 'offer'; sdp: string; restart?: boolean }
  | { type: 'answer'; sdp: string }
  | { type: 'candidate'; candidate: IceCandidateInit | null };

/**
 * What an answerer signals its offerer when its side of the link failed before it connected. The offerer's side
 * may not see that failure (ICE that failed at once on one side goes on trying on the other, until the link's
 * connect timeout, 20 s): on this request the offerer closes its side and offers a new link. Not a
 * {@link PeerSignal}: the link never sees it, the application that owns the links does. `offer`: the
 * {@link sdpSessionId} of the offer that was answered, so that a request about a link already replaced is ignored.
 */
export interface ReconnectRequest {
  type: 'reconnect';
  reason: string;
  offer: string | undefined;
}

/** The session id of an SDP's `o=` line (RFC 8866 §5.2): the same for every offer of one peer connection. */
export function sdpSessionId(sdp: string): string | undefined {
  return /^o=\S+ (\d+) /m.exec(sdp)?.[1];
}

/** A W3C `RTCIceCandidateInit`. */
export interface IceCandidateInit {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

/** Why the transport dropped something, received packets and sent samples alike. */
export type DropReason =
  /** Older than `maxAgeMs` (on receipt, at emission, or still queued on the sender). */
  | 'stale'
  /** A packet of a sample that was already emitted. */
  | 'late'
  /** The same packet twice. */
  | 'duplicate'
  /** A byte string that is not a valid frame or control envelope. */
  | 'malformed'
  /** Dropped on the sender because the receiver or the path was too slow (whole samples, never half). */
  | 'backpressure';

/** Per-channel figures of one stats interval. */
export interface ChannelStats {
  /** Bytes handed to the channel per second over the interval. */
  sentBytesPerSec: number;
  /** Bytes received per second over the interval. */
  receivedBytesPerSec: number;
  /** Messages sent and received since the link started. */
  sentMessages: number;
  receivedMessages: number;
  /** The channel's `bufferedAmount` now, bytes. */
  bufferedAmountBytes: number;
  /** Bytes waiting in the link's own queue (not yet handed to the channel). */
  queuedBytes: number;
  /** Packet loss seen by this end over the interval, 0..1 (from gaps in the packet sequence); undefined for `control` or with nothing received. */
  lossRate: number | undefined;
  /** Packets lost since the link started, as seen by this end (0 for `control`). */
  lostPackets: number;
}

/** Percentiles of the age of samples at arrival over one interval, milliseconds. */
export interface AgeStats {
  p50Ms: number;
  p95Ms: number;
  count: number;
}

/** What a receiver tells its sender each interval over `control` (`link-report`). */
export interface LinkReport {
  /** When the report was made, the reporter's clock, milliseconds. */
  timestampMs: number;
  /**
   * How long a window the figures cover, ending at `timestampMs`, ms. A receiver reports every 100 ms over the
   * last stats interval (a sliding window). Absent from a peer that predates it.
   */
  intervalMs?: number | undefined;
  /** The reporter's receive-side loss per unreliable channel, 0..1 (undefined: nothing received). */
  lossRate: { public: number | undefined; private: number | undefined };
  /** The reporter's receive goodput over all channels, bytes/s. */
  receivedBytesPerSec: number;
  /** Age of samples at arrival at the reporter. */
  age: AgeStats | undefined;
  /** The reporter's drop counters since it started. */
  drops: Record<DropReason, number>;
  /**
   * Set only in an early report, sent out of the interval because the ages of arriving samples show a queue
   * building on the path (`QueueTrend`): how far the newest age rose above the lowest, ms, and the rate that
   * arrived meanwhile, bytes/s.
   */
  queue?: { riseMs: number; rateBytesPerSec: number } | undefined;
  /**
   * The longest stall of the reporter's host (its event loop late by more than 40 ms: descheduled, frozen, a
   * long synchronous job) over the report's interval, ms; absent when none. Samples it held back arrive late and
   * together, and its byte counts shift between intervals: the figures of such an interval say less of the path.
   * As `stats$.remote`, it also keeps the stall of an earlier report that this one replaced before any emission
   * carried it (two reports in one of this end's intervals).
   */
  stallMs?: number | undefined;
  /**
   * The longest outage that ended within the report's window, ms; absent when none: nothing arrived on the sample
   * channels for 250 ms or more, and then packets that skip 3 or more numbers (the path carried nothing for a
   * while and came back). The window's loss and goodput are then mostly the outage's, not the path's rate.
   */
  outageMs?: number | undefined;
}

/** One emission of `stats$`. */
export interface LinkStats {
  /** When this snapshot was made, local clock milliseconds. */
  timestampMs: number;
  /**
   * Bytes per second this end sent over the window the peer's last report (`remote`) covers, moved back by half
   * the RTT: what that report's `receivedBytesPerSec` is to be compared with, whatever the two ends' phases.
   * Undefined before a report with its window and an RTT.
   */
  remoteSentBytesPerSec?: number | undefined;
  /** Length of the interval the rates cover, milliseconds. */
  intervalMs: number;
  /** Latest round-trip time from control ping/pong, milliseconds (undefined before the first pong). */
  rttMs: number | undefined;
  /** Estimated remote clock minus local clock, milliseconds (from the ping with the smallest RTT). */
  clockOffsetMs: number;
  channels: Record<ChannelKind, ChannelStats>;
  /** Goodput over all channels: payload-carrying bytes per second, each way. */
  sentBytesPerSec: number;
  receivedBytesPerSec: number;
  /** Age of samples at arrival (first packet) over the interval. */
  age: AgeStats | undefined;
  /** Drops since the link started: received packets for stale/late/duplicate/malformed, whole samples for backpressure and sender-side stale. */
  drops: Record<DropReason, number>;
  /** Sender-side drops only, whole samples. */
  sendDroppedSamples: { backpressure: number; stale: number };
  /** Control messages `sendControl` refused because its queue was full. */
  controlRejected: number;
  /** Samples emitted so far, complete and with holes. */
  samplesComplete: number;
  samplesIncomplete: number;
  /**
   * What this end's fault injection (`faults`) dropped since the link started: packets, and samples of
   * which it dropped every packet (so they never reached reassembly). Zero without `faults`.
   */
  faultDrops: { packets: number; samples: number };
  /** Early link reports (a queue building, `QueueTrend`) this end sent, and received from the peer, since the link started. */
  earlyReports: { sent: number; received: number };
  /**
   * Stalls of this host's event loop seen while samples arrive (`StallWatch`) since the link started: how many,
   * the longest (ms), and the samples whose first packet was read during one. Those samples are decoded as any
   * other, but their ages (which include the stall) are left out of `age` and of the early queue report.
   */
  hostStalls: { count: number; maxMs: number; unmeasuredSamples: number; intervalMaxMs: number };
  /** The last link report the peer sent (its receive-side view), if any. */
  remote: LinkReport | undefined;
}

/**
 * Connection state of a link. `disconnected`: it was connected, but nothing arrived for `staleAfterMs` (or the
 * peer connection said `disconnected`/`failed`); the offerer restarts ICE, and the link is `connected` again as
 * soon as traffic returns, with its channels and state as they were.
 */
export type LinkState = 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

/**
 * The part of a W3C `RTCDataChannel` the link uses. Native browser channels and werift's both fit.
 */
export interface DataChannelLike {
  readonly label: string;
  readonly readyState: string;
  readonly bufferedAmount: number;
  bufferedAmountLowThreshold: number;
  binaryType?: string;
  send(data: Uint8Array): void;
  close(): void;
  addEventListener(type: string, listener: (event: unknown) => void): void;
  removeEventListener(type: string, listener: (event: unknown) => void): void;
}

/**
 * The part of a W3C `RTCPeerConnection` the link uses. Native browser connections and werift's both fit.
 */
export interface PeerConnectionLike {
  readonly connectionState: string;
  readonly iceGatheringState: string;
  readonly localDescription: { type: string; sdp: string } | null;
  readonly remoteDescription: unknown;
  createDataChannel(
    label: string,
    init: { negotiated: boolean; id: number; ordered?: boolean; maxRetransmits?: number },
  ): unknown;
  /** `iceRestart`: new ICE credentials (W3C `RTCOfferOptions`). */
  createOffer(options?: { iceRestart?: boolean }): Promise<unknown>;
  createAnswer(): Promise<unknown>;
  setLocalDescription(description?: unknown): Promise<unknown>;
  setRemoteDescription(description: { type: 'offer' | 'answer'; sdp: string }): Promise<unknown>;
  addIceCandidate(candidate: IceCandidateInit): Promise<unknown>;
  addEventListener(type: string, listener: (event: unknown) => void): void;
  removeEventListener(type: string, listener: (event: unknown) => void): void;
  close(): unknown;
}
