import type { OperatingPoint, SemanticCodec } from '@m4sc/semantic-codec';
import {
  connectSignaling,
  createExponentialBackoff,
  type Logger,
  type SignalingClient,
} from '@m4sc/signaling';
import type { PeerConnectionLike, PeerSignal } from '@m4sc/transport';
import type { RelayPublisher } from '@m4sc/transport/janus';
import type { Observable } from 'rxjs';
import { type AdaptationPolicy, createDefaultAdaptationPolicy, DEFAULT_LAYER_BOUNDS } from './adaptation.js';
import {
  ADAPTATION_REPORT_MS,
  DEFAULT_FPS,
  DEFAULT_STATS_INTERVAL_MS,
  SIGNALING_HEARTBEAT_MS,
  SIGNALING_RETRY_MAX_ATTEMPTS,
  SIGNALING_RETRY_MAX_DELAY_MS,
  STATS_REPORT_MS,
} from './defaults.js';
import { type AdaptationTraceEntry, createLinkAdaptation } from './linkAdaptation.js';
import { createReceiverControl } from './receiverControl.js';
import { createReceiverSessions } from './receiverSessions.js';
import { createRelayPath } from './relayPath.js';
import { createSampleLoop } from './sampleLoop.js';
import { createSamplePipeline } from './samplePipeline.js';
import { createSenderStats } from './senderStats.js';
import { sendControl } from './session.js';
import { createWordEditSharingPolicy, type SharingPolicy } from './sharing.js';
import type { Source } from './sources/source.js';
import type { ReceiverInfo, SenderStats } from './types.js';

export { instructionTag } from './samplePipeline.js';

/** Options of {@link createSender}. */
export interface SenderOptions {
  /** Signaling server URL, `ws://host:port`. */
  signalUrl: string;
  /** Room to send to. */
  room: string;
  /** Room token when the signaling server has a secret. */
  token?: string;
  /** Creates one RTCPeerConnection per receiver (e.g. `createWeriftPeerConnection({ mode: 'loopback' })`). */
  createPeerConnection: () => PeerConnectionLike;
  /** Where samples come from. The sender closes it. */
  source: Source;
  /** Samples per second. Default {@link DEFAULT_FPS}. */
  fps?: number;
  /**
   * The semantic codec. Without it the sender streams raw RGB pixels (`--codec raw`: the transport check
   * and the pixel baseline), and receivers' instructions are refused.
   */
  codec?: SemanticCodec;
  /** Operating point of every stream. Default: the bundle's first. */
  op?: OperatingPoint;
  /**
   * Image samples' public stream: the learned token path (default) or the bundle's public image code
   * (`code`: `streams.image`; frame sides must be multiples of its block), which carries parity packets sized
   * for the lossiest receiver's measured loss. `m4sc-send --image-path auto` picks the code for natural-image
   * sources (`autoImagePath`). docs/EVAL.md.
   */
  publicImage?: 'learned' | 'code';
  /**
   * Operating point of the private and shared streams (a receiver's adaptation may only go cheaper).
   * Default: `op`. The CLI defaults it to the bundle's cheapest point, since the private tasks lose
   * nothing there on held-out data (docs/EVAL.md).
   */
  privateOp?: OperatingPoint;
  /**
   * Semantic sharing policy, or `'naive'`: encode and send everything per receiver (the baseline the
   * sharing benchmark compares against). Default: word-level edit similarity, threshold 0.9.
   */
  sharing?: SharingPolicy | 'naive';
  /** How often `stats$` emits, milliseconds. Default 1000. */
  statsIntervalMs?: number;
  /** Called after each sample is handed to the links, with the receivers it went to (any stream). */
  onSampleSent?: (seq: number, peerIds: readonly string[]) => void;
  /**
   * Link adaptation (`--adapt`): a policy that turns each receiver's link figures into its private
   * operating point and the public layers it is sent, or `false` for a fixed operating point.
   * Default: `createDefaultAdaptationPolicy()` (packages/sender/src/adaptation.ts).
   */
  adaptation?: AdaptationPolicy | false;
  /**
   * Called with every receiver's link figures as the policy sees them, and its decision when adaptation is on
   * (`m4sc-send --adapt-log`). Default none.
   */
  adaptationTrace?: (entry: AdaptationTraceEntry) => void;
  /**
   * Public layer bounds in symbols per token (see `encodeSample`'s `publicLayers`), or `false` to send
   * the public stream unlayered. Default {@link DEFAULT_LAYER_BOUNDS} cut at the operating point's rate.
   */
  publicLayers?: readonly number[] | false;
  /**
   * A relay (`createJanusPublisher`, `--relay`): the public stream goes there once per sample, and to no
   * receiver that reports the relay path working (`{t:'relay', up}` on control). Private and shared
   * streams and control stay direct. The sender closes it. Default none.
   */
  relay?: RelayPublisher;
  logger?: Logger;
}

/** A running sender. */
export interface Sender {
  readonly room: string;
  /** Live figures, every `statsIntervalMs`. Completes on close. */
  readonly stats$: Observable<SenderStats>;
  /** Emits once when a finite source has ended or failed; the sender keeps its peers until closed. */
  readonly ended: Promise<Error | undefined>;
  /** Current receivers. */
  receivers(): ReceiverInfo[];
  /** Stops the source, closes every peer and leaves the room. Idempotent. */
  close(): Promise<void>;
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Joins `room` as its sender and streams `source` to every receiver. In semantic mode each sample is
 * encoded once into public semantics; each distinct (or similar, per the sharing policy) instruction is
 * encoded once more into private semantics, then fanned out to the receivers that need it.
 *
 * A facade over its managers: the receiver sessions (receiverSessions.ts), their control messages
 * (receiverControl.ts), the relay path (relayPath.ts), link adaptation (linkAdaptation.ts), the sample
 * loop (sampleLoop.ts) and encode-and-send pipeline (samplePipeline.ts), and the stats (senderStats.ts).
 */
export async function createSender(options: SenderOptions): Promise<Sender> {
  const fps = options.fps ?? DEFAULT_FPS;
  if (!(fps > 0 && fps <= 120)) throw new TypeError(`fps must be in (0, 120], got ${fps}`);
  const codec = options.codec;
  const source = options.source;
  if (!codec && source.modality !== 'image')
    throw new TypeError('raw mode streams images only; text needs the semantic codec');
  if (options.publicImage === 'code' && !codec?.hasImageCode)
    throw new TypeError(
      "publicImage 'code' needs a semantic codec whose bundle has a public image code (streams.image)",
    );
  const op = options.op ?? codec?.operatingPoints[0];
  if (codec && !op) throw new TypeError('the bundle declares no operating point; pass one');
  const sharing = options.sharing ?? createWordEditSharingPolicy();
  const privOp = options.privateOp ?? op;
  // The policy conditions the coder on the quantiser's SNR: the bundle's own table when it has one.
  const quantiserTable = (
    codec?.manifest as { channel?: { quantiserSnrDb?: Record<string, number> } } | undefined
  )?.channel?.quantiserSnrDb;
  if (
    options.adaptation !== undefined &&
    options.adaptation !== false &&
    !(typeof options.adaptation?.decide === 'function' && typeof options.adaptation.forget === 'function')
  )
    throw new TypeError(
      `adaptation must be an AdaptationPolicy (decide and forget) or false, got ${typeof options.adaptation === 'object' ? 'an object without them' : String(options.adaptation)}`,
    );
  const adaptation =
    codec && sharing !== 'naive'
      ? (options.adaptation ??
        createDefaultAdaptationPolicy(quantiserTable ? { quantiserSnrDb: quantiserTable } : {}))
      : false;
  const layerBounds =
    options.publicLayers === false || !op
      ? undefined
      : (() => {
          const b = (options.publicLayers ?? DEFAULT_LAYER_BOUNDS).filter((x) => x < op.rateSymbols);
          return [...b, op.rateSymbols];
        })();
  const log = options.logger ?? silent;

  const client: SignalingClient = await connectSignaling({
    url: options.signalUrl,
    room: options.room,
    role: 'sender',
    reconnect: createExponentialBackoff({
      maxDelayMs: SIGNALING_RETRY_MAX_DELAY_MS,
      maxAttempts: SIGNALING_RETRY_MAX_ATTEMPTS,
    }),
    heartbeatMs: SIGNALING_HEARTBEAT_MS,
    ...(options.token ? { token: options.token } : {}),
  });

  let closed = false;
  const senderClosed = () => closed;
  const relay = createRelayPath(options.relay, log);
  const pipeline = createSamplePipeline({
    codec,
    op,
    privateOp: privOp,
    sharing,
    layerBounds,
    relay,
    session: (peerId) => sessions.get(peerId),
    log,
    ...(options.publicImage ? { publicImage: options.publicImage } : {}),
  });
  let senderDelayRiseMs = () => 0;
  const linkAdaptation = createLinkAdaptation({
    policy: adaptation,
    privateOp: privOp,
    tokens: codec?.manifest.dims.P,
    fps,
    relay,
    layerBytes: () => pipeline.layerBytes,
    // The loop is created below; figures come only once receivers are connected.
    senderDelayRiseMs: () => senderDelayRiseMs(),
    log,
    ...(options.adaptationTrace ? { trace: options.adaptationTrace } : {}),
  });
  const control = createReceiverControl({
    codec,
    source,
    relay,
    disconnect: (peerId, reason) => sessions.close(peerId, reason),
    log,
  });
  const sessions = createReceiverSessions({
    client,
    createPeerConnection: options.createPeerConnection,
    onOpen: (s) => [
      s.link.stats$.subscribe((st) => linkAdaptation.onLinkStats(s, st)),
      s.link.control$.subscribe((msg) => control.handle(s, msg)),
    ],
    onConnected: (s) =>
      sendControl(
        s,
        {
          t: 'hello',
          codec: codec ? 'semantic' : 'raw',
          ...(codec ? { bundle: { name: codec.manifest.name, version: codec.manifest.version } } : {}),
          modality: source.modality,
          fps,
          source: source.description,
          // Link reports as often as the adaptation needs them (docs/NETLAB.md, "Reports that slide").
          reportMs: adaptation ? ADAPTATION_REPORT_MS : STATS_REPORT_MS,
        },
        log,
      ),
    onClosed: (peerId) => {
      linkAdaptation.forget(peerId);
      relay.forget(peerId);
    },
    senderClosed,
    log,
  });

  const eventsSub = client.events$.subscribe((ev) => {
    switch (ev.type) {
      case 'peer-joined':
        if (ev.role === 'receiver') sessions.join(ev.peerId);
        break;
      case 'peer-left':
        sessions.leave(ev.peerId, ev.reason);
        break;
      case 'signal':
        sessions.signal(ev.from, ev.data as unknown as PeerSignal);
        break;
      case 'error':
        log.warn('signaling error', { code: ev.code, message: ev.message });
        break;
      case 'reconnecting':
        log.warn('signaling connection lost, rejoining', { attempt: ev.attempt, delayMs: ev.delayMs });
        break;
      case 'reconnected':
        // A receiver that joined while we were away (the server restarted, and it came back first) is only
        // in the room's list: no peer-joined reaches us for it. Sessions we have stay as they are.
        for (const p of ev.peers)
          if (p.role === 'receiver' && !sessions.get(p.peerId)) {
            log.info('receiver found in the room after rejoining signaling', { peerId: p.peerId });
            sessions.join(p.peerId);
          }
        break;
      default:
        break;
    }
  });
  for (const p of client.peers) if (p.role === 'receiver') sessions.join(p.peerId);

  const loop = createSampleLoop({
    source,
    fps,
    connected: () => sessions.connected(),
    senderClosed,
    send: (sample, connected, captureTsMs) => pipeline.send(sample, connected, captureTsMs),
    onSampleSent: options.onSampleSent,
    log,
  });
  senderDelayRiseMs = () => loop.delayRiseMs();
  const stats = createSenderStats({
    intervalMs: options.statsIntervalMs ?? DEFAULT_STATS_INTERVAL_MS,
    loop,
    pipeline,
    sessions: () => sessions.all.values(),
  });

  return {
    room: options.room,
    stats$: stats.stats$,
    ended: loop.ended,
    receivers: stats.receivers,
    async close() {
      if (closed) return;
      closed = true;
      const stopped = loop.stop();
      stats.stop();
      await stopped; // the model may still be running on the last sample
      eventsSub.unsubscribe();
      sessions.closeAll();
      await relay.close();
      client.close();
      loop.close();
      stats.close();
    },
  };
}
