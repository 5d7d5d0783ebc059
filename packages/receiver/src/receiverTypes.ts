import type { HelloMessage, SemanticCodec, ServeMessage } from '@m4sc/semantic-codec';
import type { Logger } from '@m4sc/signaling/client';
import type { LinkStats, PeerConnectionLike } from '@m4sc/transport';
import type { LayeredRelaySubscriber, RelaySubscriber } from '@m4sc/transport/janus';
import type { Observable } from 'rxjs';

/** What the receiver asks the sender for. */
export interface ReceiverInstruction {
  task: string;
  query?: string;
}

/** One decoded sample. */
export interface ReceiverResult {
  /** Sample id (the sender's sample index). */
  seq: number;
  task: string;
  /** Capture on the sender to decoded here, milliseconds (clock-offset corrected). */
  latencyMs: number;
  /** Capture on the sender to the sample's reassembly here (sender encode + network), milliseconds. */
  arrivalAgeMs: number;
  /** Time spent decoding, milliseconds. */
  decodeMs: number;
  /** Packets lost out of `packets`; lost packets are decoded through the erasure mask, never dropped whole. */
  lostPackets: number;
  packets: number;
  /** Of the lost data packets, those rebuilt from the sample's parity packets (the public image code's FEC). */
  recoveredPackets: number;
  /** The stream it came on: `public`, `shared:<tag>`, `private:<peer>`. */
  stream: string;
  /** The sample's operating point as its header carried it (raw samples: the raw-pixel descriptor). */
  op: Readonly<Record<string, unknown>>;
  /** For image results: RGB24. */
  image?: { data: Uint8Array; width: number; height: number };
  /** For text results (caption, class, answer, transmitted text). */
  text?: string;
}

/** Events a user should see, in words. */
export type ReceiverEvent =
  | { type: 'hello'; hello: HelloMessage }
  | { type: 'served'; serve: ServeMessage }
  | { type: 'refused'; code: string; message: string }
  | { type: 'sender-left'; reason: string }
  /** The signaling connection dropped and is being re-established (established peers keep streaming). */
  | { type: 'signaling-lost'; attempt: number; delayMs: number }
  | { type: 'signaling-restored' }
  /** The signaling client gave up (or the server closed it); no new negotiation can happen. */
  | { type: 'signaling-closed'; reason: string }
  | { type: 'connected' }
  /** Nothing arrives from the sender any more (its path or ours changed); the sender restarts ICE. */
  | { type: 'link-lost' }
  /** The link carries traffic again (after an ICE restart, on the same connection), `afterMs` after it went silent. */
  | { type: 'link-restored'; afterMs: number };

/** Options of {@link createReceiver}. */
export interface ReceiverOptions {
  signalUrl: string;
  room: string;
  token?: string;
  /** Creates the RTCPeerConnection for the link to the sender. */
  createPeerConnection: () => PeerConnectionLike;
  /** The semantic codec; needed for semantic streams (the sender says which in `hello`). */
  codec?: SemanticCodec;
  /** What to ask for. Default `{ task: 'reconstruct' }`. */
  instruction?: ReceiverInstruction;
  /** Receive-side fault injection on the sample channels (the transport's `faults`), for demos and tests. */
  faults?: { lossPct?: number; delayMs?: number; jitterMs?: number; seed?: number };
  /**
   * A relay (`createJanusSubscriber`, `--relay`): public samples also come from there; while they do, the
   * receiver tells the sender (`{t:'relay', up}` on control), which then stops sending them directly.
   * Samples that come both ways are decoded once. With a layered subscriber
   * (`createLayeredJanusSubscriber`), the sender's `relay-layers` choice sets how many public layer rooms
   * it takes. The receiver closes it. Default none.
   */
  relay?: RelaySubscriber | LayeredRelaySubscriber;
  logger?: Logger;
}

/** A running receiver. */
export interface Receiver {
  readonly peerId: string;
  /** Decoded samples. Completes on close. */
  readonly results$: Observable<ReceiverResult>;
  /** Things the user should know: the sender's hello, how the task is served, refusals. */
  readonly events$: Observable<ReceiverEvent>;
  /** Link figures of the current sender link. Completes on close. */
  readonly stats$: Observable<LinkStats>;
  /** Counters of samples not decoded, by reason. */
  readonly dropped: Readonly<DropCounters>;
  /** Samples the `faults` injector dropped entirely (sample numbers, all streams), for loss accounting. */
  faultLostSeqs(): number[];
  /**
   * Samples the link dropped packets of, or whole, for arriving older than its `maxAgeMs` (sample numbers, all
   * streams): counted in its stats' `drops.stale`; listed for loss accounting. Some may still have decoded.
   */
  staleSeqs(): number[];
  /** Switches task; takes effect with the next sample the sender encodes. Throws InvalidStateError after `close()`. */
  setInstruction(instruction: ReceiverInstruction): void;
  close(): Promise<void>;
}

/** Samples (or control messages) not decoded, by reason. */
export type DropCounters = Record<
  'bad-control' | 'not-for-me' | 'undecodable' | 'decoder-busy' | 'late-layer',
  number
>;

/** Every drop counter at zero. */
export const emptyDropCounters = (): DropCounters => ({
  'bad-control': 0,
  'not-for-me': 0,
  undecodable: 0,
  'decoder-busy': 0,
  'late-layer': 0,
});
