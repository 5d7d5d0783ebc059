import {
  type Instruction,
  instructionKey,
  type OperatingPoint,
  PACKET_HEADER_BYTES,
  parseReceiverMessage,
  type SemanticCodec,
  type SenderToReceiver,
  toWireOperatingPoint,
} from '@m4sc/semantic-codec';
import {
  connectSignaling,
  createExponentialBackoff,
  type Logger,
  type SignalingClient,
} from '@m4sc/signaling';
import {
  createIceRestartBackoff,
  createPeerLink,
  type PeerConnectionLike,
  type PeerSignal,
  percentile,
  splitPayload,
  TokenBucket,
} from '@m4sc/transport';
import type { RelayPublisher } from '@m4sc/transport/janus';
import { type Observable, Subject } from 'rxjs';
import {
  type AdaptationPolicy,
  createDefaultAdaptationPolicy,
  DEFAULT_LAYER_BOUNDS,
  linkFiguresFromStats,
} from './adaptation.js';
import {
  CONTROL_ABUSE_CLOSE_MS,
  CONTROL_BURST,
  CONTROL_RATE_PER_SEC,
  DEFAULT_FPS,
  DEFAULT_STATS_INTERVAL_MS,
  SIGNALING_HEARTBEAT_MS,
  SIGNALING_RETRY_MAX_ATTEMPTS,
  SIGNALING_RETRY_MAX_DELAY_MS,
} from './defaults.js';
import { freshRelayReport, mergeRelayFigures, parseRelayReport } from './relayFigures.js';
import type { Session } from './session.js';
import { createWordEditSharingPolicy, groupInstructions, type SharingPolicy } from './sharing.js';
import type { Source, SourceSample } from './sources/source.js';
import type { ReceiverInfo, SenderStats } from './types.js';

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
const PUBLIC_TASKS = new Set(['reconstruct', 'transmit']);
/** Wait before replacing a receiver's failed or closed link, ms: a receiver that quits closes its channels just before its `leave` reaches us. */
const LINK_FALLBACK_GRACE_MS = 500;
/** Offers to a receiver whose connection failed, before giving up (backoff 0.5, 1, 2, 4 s). */
const CONNECT_RETRIES = 4;

/** 8 hex digits of FNV-1a: a short tag for an instruction key in stream ids and sample headers. */
export function instructionTag(key: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** The cheaper of two operating points by symbols × bits per token (`b` when `a` is absent). */
const cheaper = (a: OperatingPoint | undefined, b: OperatingPoint): OperatingPoint =>
  a && a.rateSymbols * a.bits < b.rateSymbols * b.bits ? a : b;

/** Bytes of one private sample at `op`: P tokens × rate symbols at `bits`, plus the packet header. */
const privateSampleBytes = (op: OperatingPoint, P: number) =>
  Math.ceil((P * op.rateSymbols * op.bits) / 8) + PACKET_HEADER_BYTES;

const describeInstruction = (i: Instruction | undefined) =>
  i ? (i.query.length ? `${i.task}: ${i.query.join(' ')}` : i.task) : undefined;

/**
 * Joins `room` as its sender and streams `source` to every receiver. In semantic mode each sample is
 * encoded once into public semantics; each distinct (or similar, per the sharing policy) instruction is
 * encoded once more into private semantics, then fanned out to the receivers that need it.
 */
export async function createSender(options: SenderOptions): Promise<Sender> {
  const fps = options.fps ?? DEFAULT_FPS;
  if (!(fps > 0 && fps <= 120)) throw new TypeError(`fps must be in (0, 120], got ${fps}`);
  const codec = options.codec;
  const source = options.source;
  if (!codec && source.modality !== 'image')
    throw new TypeError('raw mode streams images only; text needs the semantic codec');
  const op = options.op ?? codec?.operatingPoints[0];
  if (codec && !op) throw new TypeError('the bundle declares no operating point; pass one');
  const sharing = options.sharing ?? createWordEditSharingPolicy();
  const privOp = options.privateOp ?? op;
  // The policy conditions the coder on the quantiser's SNR: the bundle's own table when it has one.
  const quantiserTable = (
    codec?.manifest as { channel?: { quantiserSnrDb?: Record<string, number> } } | undefined
  )?.channel?.quantiserSnrDb;
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
  /** Bytes of each public layer of the last sample, for the policy's view of the stream's rate. */
  let lastLayerBytes: number[] = [];
  /** Receivers the current sample went to. */
  const sentTo = new Set<string>();
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

  const sessions = new Map<string, Session>();
  /** Failed connection attempts per receiver, for the retry backoff. */
  const connectAttempts = new Map<string, number>();
  /** Receivers that report the public stream reaching them through the relay. */
  const onRelay = new Set<string>();
  const relay = options.relay;
  const stats$ = new Subject<SenderStats>();
  let closed = false;
  let joinCounter = 0;
  let samples = 0;
  let skipped = 0;
  let publicEncodes = 0;
  let privateEncodes = 0;
  let encodeMs: number[] = [];
  let publicBytesPerSample = 0;
  let privateBytesPerSample = 0;
  let samplesAtLastStats = 0;
  let lastStatsMs = Date.now();
  let busy = false;
  let inflight: Promise<void> = Promise.resolve();
  let resolveEnded!: (e: Error | undefined) => void;
  const ended = new Promise<Error | undefined>((r) => (resolveEnded = r));
  let sourceDone = false;

  const info = (): ReceiverInfo[] =>
    [...sessions.values()].map((s) => ({
      peerId: s.peerId,
      state: s.state,
      task: describeInstruction(s.instruction),
      stream: s.servedKey,
      bytes: { ...s.bytes },
      controlRefused: s.controlRefused,
      link: s.stats,
      decode: s.decode,
      op: s.decision
        ? {
            name: s.decision.privateOp.name,
            publicLayers: s.decision.publicLayers,
            reason: s.decision.reason,
          }
        : undefined,
    }));

  const control = (s: Session, msg: SenderToReceiver) => {
    if (s.state !== 'closed' && !s.link.sendControl(msg))
      log.warn('control queue full', { peerId: s.peerId });
  };

  const closeSession = (peerId: string, reason: string) => {
    const s = sessions.get(peerId);
    if (!s) return;
    sessions.delete(peerId);
    for (const sub of s.subs) sub.unsubscribe();
    s.state = 'closed';
    s.link.close();
    if (adaptation) adaptation.forget(peerId);
    onRelay.delete(peerId);
    log.info('receiver left', { peerId, reason });
  };

  /** Counts a refused control message; logs at most once a second per receiver. */
  const refuse = (s: Session, why: string) => {
    s.controlRefused++;
    const now = Date.now();
    if (now - s.lastRefusalLogMs >= 1000) {
      s.lastRefusalLogMs = now;
      log.warn('control message refused', { peerId: s.peerId, why, refusedSoFar: s.controlRefused });
      return true;
    }
    return false;
  };

  const onControl = (s: Session, raw: unknown) => {
    const now = Date.now();
    if (!s.controlBucket.canSend(now)) {
      // Over the rate limit: drop without a reply (replies would feed a flood), close after sustained abuse.
      refuse(s, 'rate limit');
      s.abuseSinceMs ??= now;
      s.lastOverLimitMs = now;
      if (now - s.abuseSinceMs > CONTROL_ABUSE_CLOSE_MS) {
        log.warn('receiver disconnected for flooding control', { peerId: s.peerId });
        closeSession(s.peerId, 'control-flood');
      }
      return;
    }
    // Abuse ends after a full second within the limit (a flood at any rate above it keeps hitting it).
    if (s.lastOverLimitMs !== undefined && now - s.lastOverLimitMs > 1000) s.abuseSinceMs = undefined;
    s.controlBucket.take(1, now);
    const r = raw as { t?: unknown; up?: unknown } | null;
    if (r && typeof r === 'object' && r.t === 'relay' && typeof r.up === 'boolean') {
      // The receiver gets the public stream through the relay (or no longer does): stop (or resume) direct.
      if (r.up !== onRelay.has(s.peerId)) log.info('receiver relay path', { peerId: s.peerId, up: r.up });
      if (r.up) onRelay.add(s.peerId);
      else onRelay.delete(s.peerId);
      s.relayLayers = undefined; // (re)send the layer choice on the next sample
      return;
    }
    if (r && typeof r === 'object' && r.t === 'relay-report') {
      const f = parseRelayReport(raw);
      if (f) s.relayReport = { ...f, atMs: now };
      else if (refuse(s, 'malformed relay-report'))
        control(s, { t: 'error', code: 'bad-message', message: 'malformed relay-report' });
      return;
    }
    const m = parseReceiverMessage(raw);
    if (!m) {
      // Reply once a second at most, so a stream of garbage is not echoed back.
      if (refuse(s, 'not a valid control message')) {
        control(s, { t: 'error', code: 'bad-message', message: 'not a valid control message' });
      }
      return;
    }
    if (m.t === 'decode-report') {
      s.decode = m;
      return;
    }
    if (!codec) {
      control(s, {
        t: 'error',
        ref: m.id,
        code: 'bad-instruction',
        message: 'this sender streams raw pixels (--codec raw): it runs no tasks',
      });
      return;
    }
    let instruction: Instruction;
    try {
      instruction = codec.parseInstruction({ task: m.task, ...(m.query ? { query: m.query } : {}) });
    } catch (err) {
      const code = (err as Error).name === 'UnsupportedError' ? 'unknown-task' : 'bad-instruction';
      control(s, { t: 'error', ref: m.id, code, message: (err as Error).message });
      log.warn('instruction refused', { peerId: s.peerId, task: m.task, error: (err as Error).message });
      return;
    }
    if (instruction.modality !== source.modality) {
      control(s, {
        t: 'error',
        ref: m.id,
        code: 'modality-mismatch',
        message: `task '${instruction.task}' needs ${instruction.modality === 'image' ? 'an image' : 'a text'} source; this sender streams ${source.modality} (${source.description})`,
      });
      return;
    }
    s.instruction = instruction;
    s.request = m;
    s.servedKey = undefined; // (re)announced with the next sample
    log.info('instruction', { peerId: s.peerId, task: describeInstruction(instruction) });
  };

  /** Logs a receiver's path going silent and coming back; a link that failed for good is replaced by a new one. */
  const linkStates = (s: Session) => {
    let silentSinceMs: number | undefined;
    return s.link.state$.subscribe((state) => {
      if (state === 'disconnected') {
        silentSinceMs = Date.now();
        log.warn('receiver link silent (path change?); restarting ICE', { peerId: s.peerId });
      } else if (state === 'connected' && silentSinceMs !== undefined) {
        log.info('ice restart after path change: receiver recovered', {
          peerId: s.peerId,
          silentMs: Date.now() - silentSinceMs,
          iceRestarts: s.link.iceRestarts,
        });
        silentSinceMs = undefined;
      } else if (
        (state === 'failed' || state === 'closed') &&
        s.state === 'connected' &&
        sessions.get(s.peerId) === s
      ) {
        // ICE restarts did not bring it back, or the receiver's peer connection cannot restart ICE (libdatachannel
        // refuses the offer and closes its channels): a new connection, with the receiver's instruction asked
        // again by its hello, if it is still in the room after a short grace (a receiver that quits closes its
        // channels just before it leaves signaling). A session closed here is out of `sessions` first.
        const peerId = s.peerId;
        closeSession(peerId, state === 'failed' ? 'link-failed' : 'link-closed');
        setTimeout(() => {
          if (closed || sessions.has(peerId) || !client.peers.some((p) => p.peerId === peerId)) return;
          log.warn('receiver link failed; reconnecting with a new peer connection', { peerId });
          openSession(peerId);
        }, LINK_FALLBACK_GRACE_MS);
      }
    });
  };

  const openSession = (peerId: string) => {
    // A receiver we are already streaming to reappears when the signaling server restarts and both
    // sides rejoin it: the peer connection does not depend on signaling, so keep it. When its link has gone
    // silent, its path changed (it rejoined from its new address): restart ICE now rather than at the next
    // scheduled attempt, since the restart's offer can reach it again.
    const existing = sessions.get(peerId);
    if (existing?.state === 'connected') {
      if (existing.link.state === 'disconnected') {
        log.info('ice restart after path change: receiver rejoined signaling; restarting ICE now', {
          peerId,
        });
        existing.link.restartIce('receiver rejoined signaling');
      } else log.info('receiver rejoined signaling; keeping its connection', { peerId });
      return;
    }
    closeSession(peerId, 'renegotiate');
    const restarts = createIceRestartBackoff();
    const link = createPeerLink({
      pc: options.createPeerConnection(),
      role: 'offerer',
      sendSignal: (data: PeerSignal) => {
        if (client.state === 'joined') client.signal(peerId, data as never);
      },
      opBudgetBytes: 128,
      logger: log,
      // The default policy, with each restart logged.
      iceRestart: {
        nextRestartDelayMs: (ctx) => {
          const delayMs = restarts.nextRestartDelayMs(ctx);
          log.info('ice restart after path change: restart scheduled', {
            peerId,
            attempt: ctx.attempt,
            inMs: delayMs,
            silentForMs: Math.round(ctx.disconnectedForMs),
          });
          return delayMs;
        },
      },
    });
    const s: Session = {
      peerId,
      link,
      order: joinCounter++,
      state: 'connecting',
      stats: undefined,
      decision: undefined,
      instruction: undefined,
      request: undefined,
      servedKey: undefined,
      bytes: { public: 0, private: 0, shared: 0 },
      decode: undefined,
      subs: [],
      controlBucket: new TokenBucket(CONTROL_RATE_PER_SEC, CONTROL_BURST, Date.now()),
      controlRefused: 0,
      lastRefusalLogMs: 0,
    };
    sessions.set(peerId, s);
    s.subs.push(
      link.stats$.subscribe((st) => {
        const previous = s.stats;
        s.stats = st;
        if (!adaptation || s.state !== 'connected') return;
        const priv = cheaper(s.decision?.privateOp, privOp!);
        const d = adaptation.decide({
          peerId,
          nowMs: st.timestampMs,
          // A relay receiver's access link also carries what Janus forwards it: count both paths.
          link: mergeRelayFigures(
            linkFiguresFromStats(st, previous),
            viaRelay(s) ? freshRelayReport(s.relayReport, st.timestampMs) : undefined,
            lastLayerBytes.slice(0, s.relayLayers ?? 1).reduce((n, b) => n + b, 0) * fps,
          ),
          stream: {
            publicLayerBytesPerSec: lastLayerBytes.map((b) => b * fps),
            // A private sample is P tokens × rate symbols × bits, plus the packet header.
            privateBytesPerSec:
              s.instruction && !PUBLIC_TASKS.has(s.instruction.task)
                ? privateSampleBytes(priv, codec!.manifest.dims.P) * fps
                : 0,
          },
        });
        if (d.changed || !s.decision) {
          log.info('operating point', {
            peerId,
            op: d.privateOp.name,
            layers: d.publicLayers,
            reason: d.reason,
          });
        }
        s.decision = d;
      }),
      link.control$.subscribe((msg) => onControl(s, msg)),
      linkStates(s),
    );
    link.connected.then(
      () => {
        if (sessions.get(peerId) !== s) return;
        s.state = 'connected';
        connectAttempts.delete(peerId);
        control(s, {
          t: 'hello',
          codec: codec ? 'semantic' : 'raw',
          ...(codec ? { bundle: { name: codec.manifest.name, version: codec.manifest.version } } : {}),
          modality: source.modality,
          fps,
          source: source.description,
        });
        log.info('receiver connected', { peerId });
      },
      (err: unknown) => {
        if (sessions.get(peerId) !== s) return; // replaced or closed meanwhile
        closeSession(peerId, 'connect-failed');
        // ICE can fail on a loaded host or a lossy path: offer again, with backoff, while it is in the room.
        const attempt = (connectAttempts.get(peerId) ?? 0) + 1;
        connectAttempts.set(peerId, attempt);
        if (attempt > CONNECT_RETRIES || closed) {
          log.warn('receiver failed to connect; giving up', {
            peerId,
            attempts: attempt,
            error: String(err),
          });
          return;
        }
        const delayMs = 500 * 2 ** (attempt - 1);
        log.warn('receiver failed to connect; offering again', {
          peerId,
          attempt,
          delayMs,
          error: String(err),
        });
        setTimeout(() => {
          if (!closed && !sessions.has(peerId) && client.peers.some((p) => p.peerId === peerId))
            openSession(peerId);
        }, delayMs);
      },
    );
    log.info('receiver joined', { peerId });
  };

  const eventsSub = client.events$.subscribe((ev) => {
    switch (ev.type) {
      case 'peer-joined':
        if (ev.role === 'receiver') openSession(ev.peerId);
        break;
      case 'peer-left':
        // `replaced`: the receiver rejoined signaling on a new connection (its path changed, or its old
        // connection died): its `peer-joined` follows at once, and its peer connection is still ours to keep.
        if (ev.reason === 'replaced' && sessions.get(ev.peerId)?.state === 'connected') {
          log.info('receiver reconnected to signaling; keeping its peer connection', { peerId: ev.peerId });
          break;
        }
        connectAttempts.delete(ev.peerId);
        closeSession(ev.peerId, ev.reason);
        break;
      case 'signal': {
        const s = sessions.get(ev.from);
        if (!s) {
          log.warn('signal from unknown peer dropped', { from: ev.from });
          break;
        }
        try {
          s.link.handleSignal(ev.data as unknown as PeerSignal);
        } catch (err) {
          log.warn('bad signal dropped', { from: ev.from, error: String(err) });
        }
        break;
      }
      case 'error':
        log.warn('signaling error', { code: ev.code, message: ev.message });
        break;
      case 'reconnecting':
        log.warn('signaling connection lost, rejoining', { attempt: ev.attempt, delayMs: ev.delayMs });
        break;
      default:
        break;
    }
  });
  for (const p of client.peers) if (p.role === 'receiver') openSession(p.peerId);

  /** Hands one sample to a session's link; counts its bytes. */
  const send = (
    s: Session,
    channel: 'public' | 'private',
    stream: string,
    kind: 'public' | 'private' | 'shared',
    seq: number,
    captureTsMs: number,
    wireOp: Record<string, unknown>,
    packets: Uint8Array[],
  ) => {
    if (s.state === 'closed') return; // left while the sample was encoding
    try {
      s.link.sendSample(channel, { seq, captureTsMs, op: wireOp, packets, stream } as never);
      sentTo.add(s.peerId);
      for (const p of packets) s.bytes[kind] += p.byteLength;
    } catch (err) {
      log.warn('send failed', { peerId: s.peerId, error: String(err) });
    }
  };

  const serve = (s: Session, ik: string, stream: string, instruction: Instruction, members: number) => {
    const key = `${stream}|${ik}|${members}`;
    if (s.servedKey === key) return;
    s.servedKey = key;
    control(s, {
      t: 'serve',
      ref: s.request?.id ?? 0,
      ik,
      instruction: {
        task: instruction.task,
        modality: instruction.modality,
        output: instruction.output,
        query: instruction.query.join(' '),
      },
      stream,
      members,
    });
  };

  /** True when `s` gets the public stream from the relay (which is up), so not directly. */
  const viaRelay = (s: Session) => relay?.state === 'up' && onRelay.has(s.peerId);
  const publishRelay = (
    stream: string,
    seq: number,
    captureTsMs: number,
    op: Record<string, unknown>,
    packets: Uint8Array[],
  ) => {
    try {
      relay?.sendSample({ stream, seq, captureTsMs, op: op as never, packets });
    } catch (err) {
      log.warn('relay send failed', { error: String(err) });
    }
  };

  const sendRaw = (sample: SourceSample, connected: Session[], captureTsMs: number) => {
    const img = sample.image!;
    const packetBytes = connected[0]!.link.maxPacketPayloadBytes;
    const packets = splitPayload(img.data, packetBytes);
    const wireOp = { kind: 'raw-rgb', width: img.width, height: img.height, packetBytes };
    publicBytesPerSample = img.data.byteLength;
    publishRelay('public', sample.index, captureTsMs, wireOp, packets);
    for (const s of connected)
      if (!viaRelay(s)) send(s, 'public', 'public', 'public', sample.index, captureTsMs, wireOp, packets);
  };

  const sendSemantic = async (sample: SourceSample, connected: Session[], captureTsMs: number) => {
    const c = codec!;
    const o = op!;
    const input = sample.image ? { image: sample.image } : { text: sample.text! };
    const maxPacketBytes = connected[0]!.link.maxPacketPayloadBytes;
    const wirePublic: Record<string, unknown> = { ...toWireOperatingPoint(o) };
    const asking = connected.filter((s) => s.instruction).sort((a, b) => a.order - b.order);
    if (asking.length === 0) return;
    if (sharing === 'naive') {
      // Baseline: everything encoded and sent per receiver, nothing shared.
      publicBytesPerSample = 0;
      privateBytesPerSample = 0;
      for (const s of asking) {
        const instr = s.instruction!;
        const enc = await c.encodeSample(input, o, {
          instructions: [instr],
          privateOps: [privOp],
          maxPacketBytes,
        });
        publicEncodes++;
        privateEncodes += enc.private.length;
        send(s, 'public', 'public', 'public', sample.index, captureTsMs, wirePublic, enc.public.packets);
        publicBytesPerSample = enc.public.packets.reduce((n, p) => n + p.byteLength, 0);
        const priv = enc.private[0];
        const ik = PUBLIC_TASKS.has(instr.task) ? 'pub' : instructionTag(instructionKey(instr));
        const stream = priv ? `private:${s.peerId}` : 'public';
        serve(s, ik, stream, instr, 1);
        if (priv) {
          send(
            s,
            'private',
            stream,
            'private',
            sample.index,
            captureTsMs,
            { ...toWireOperatingPoint(privOp!), ik },
            priv.packets,
          );
          privateBytesPerSample += priv.packets.reduce((n, p) => n + p.byteLength, 0);
        }
      }
      return;
    }
    const publicReceivers = asking.filter((s) => PUBLIC_TASKS.has(s.instruction!.task));
    const privateReceivers = asking.filter((s) => !PUBLIC_TASKS.has(s.instruction!.task));
    // Sharing groups form among receivers at the same private operating point (their own link's).
    const pointOf = (s: Session) => cheaper(s.decision?.privateOp, privOp!);
    const byPoint = new Map<string, Session[]>();
    for (const s of privateReceivers) {
      const k = pointOf(s).name;
      byPoint.set(k, [...(byPoint.get(k) ?? []), s]);
    }
    const groups = [...byPoint.values()].flatMap((members) =>
      groupInstructions(
        members.map((s) => [s.peerId, s.instruction!] as const),
        sharing,
      ).map((g) => ({ ...g, op: pointOf(sessions.get(g.members[0]!)!) })),
    );
    const enc = await c.encodeSample(input, o, {
      instructions: groups.map((g) => g.instruction),
      privateOps: groups.map((g) => g.op),
      maxPacketBytes,
      ...(layerBounds ? { publicLayers: layerBounds } : {}),
    });
    publicEncodes++;
    privateEncodes += enc.private.length;
    publicBytesPerSample = enc.public.packets.reduce((n, p) => n + p.byteLength, 0);
    lastLayerBytes = (enc.publicLayers ?? []).map((l) => l.packets.reduce((n, p) => n + p.byteLength, 0));
    if (relay && publicReceivers.length > 0) {
      // Once per sample, whatever the number of receivers; every layer. A layered publisher puts each layer
      // in its own room (Janus cannot pick per subscriber); receivers subscribe to the prefix they are told.
      const layers = enc.publicLayers ?? [{ start: 0, packets: enc.public.packets }];
      layers.forEach((layer, k) => {
        const wire = enc.publicLayers
          ? { ...wirePublic, ly: k, ls: layer.start, ln: layers.length }
          : wirePublic;
        publishRelay(k === 0 ? 'public' : `public.${k}`, sample.index, captureTsMs, wire, layer.packets);
      });
    }
    for (const s of publicReceivers) {
      serve(s, 'pub', 'public', s.instruction!, 1);
      if (viaRelay(s)) {
        // Janus sends every subscriber the same: the receiver subscribes to the layer rooms it can take.
        const n = enc.publicLayers
          ? Math.min(enc.publicLayers.length, s.decision?.publicLayers ?? enc.publicLayers.length)
          : 1;
        if (n !== s.relayLayers) {
          s.relayLayers = n;
          control(s, { t: 'relay-layers', n });
        }
        continue;
      }
      if (!enc.publicLayers) {
        send(s, 'public', 'public', 'public', sample.index, captureTsMs, wirePublic, enc.public.packets);
        continue;
      }
      // Progressive layers: the base always, enhancements as this receiver's link allows.
      const n = Math.min(enc.publicLayers.length, s.decision?.publicLayers ?? enc.publicLayers.length);
      for (let k = 0; k < n; k++) {
        const layer = enc.publicLayers[k]!;
        const stream = k === 0 ? 'public' : `public.${k}`;
        const wire = { ...wirePublic, ly: k, ls: layer.start, ln: n };
        send(s, 'public', stream, 'public', sample.index, captureTsMs, wire, layer.packets);
      }
    }
    privateBytesPerSample = 0;
    const byKey = new Map(enc.private.map((p) => [`${p.key!}|${p.op!.name}`, p]));
    for (const g of groups) {
      const key = instructionKey(g.instruction);
      const priv = byKey.get(`${key}|${g.op.name}`);
      if (!priv) continue;
      const ik = instructionTag(`${key}|${g.op.name}`);
      const bytes = priv.packets.reduce((n, p) => n + p.byteLength, 0);
      privateBytesPerSample += bytes;
      const shared = g.members.length > 1;
      const wire = { ...toWireOperatingPoint(g.op), ik };
      for (const peerId of g.members) {
        const s = sessions.get(peerId);
        if (!s) continue;
        const stream = shared ? `shared:${ik}` : `private:${peerId}`;
        serve(s, ik, stream, g.instruction, g.members.length);
        send(
          s,
          shared ? 'public' : 'private',
          stream,
          shared ? 'shared' : 'private',
          sample.index,
          captureTsMs,
          wire,
          priv.packets,
        );
      }
    }
  };

  const tick = async () => {
    if (closed || sourceDone) return;
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
      const connected = [...sessions.values()].filter((s) => s.state === 'connected');
      if (connected.length === 0 || closed) return;
      const t0 = performance.now();
      sentTo.clear();
      if (codec) await sendSemantic(sample, connected, captureTsMs);
      else sendRaw(sample, connected, captureTsMs);
      options.onSampleSent?.(sample.index, [...sentTo]);
      encodeMs.push(performance.now() - t0);
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
  }, 1000 / fps);
  const statsTimer = setInterval(() => {
    const now = Date.now();
    const dt = (now - lastStatsMs) / 1000;
    const sorted = [...encodeMs].sort((a, b) => a - b);
    stats$.next({
      timestampMs: now,
      samples,
      fps: dt > 0 ? (samples - samplesAtLastStats) / dt : 0,
      skipped,
      publicEncodes,
      privateEncodes,
      encodeMsP50: sorted.length ? percentile(sorted, 50) : 0,
      encodeMsP95: sorted.length ? percentile(sorted, 95) : 0,
      publicBytesPerSample,
      privateBytesPerSample,
      receivers: info(),
    });
    encodeMs = [];
    samplesAtLastStats = samples;
    lastStatsMs = now;
  }, options.statsIntervalMs ?? DEFAULT_STATS_INTERVAL_MS);

  return {
    room: options.room,
    stats$: stats$.asObservable(),
    ended,
    receivers: info,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(frameTimer);
      clearInterval(statsTimer);
      await inflight; // the model may still be running on the last sample
      eventsSub.unsubscribe();
      for (const id of [...sessions.keys()]) closeSession(id, 'sender-closed');
      await relay?.close();
      client.close();
      source.close();
      resolveEnded(undefined);
      stats$.complete();
    },
  };
}
