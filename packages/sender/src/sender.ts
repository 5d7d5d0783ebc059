import { connectSignaling, type Logger, type SignalingClient } from '@m4sc/signaling';
import {
  createPeerLink,
  type LinkStats,
  type PeerLink,
  type PeerSignal,
  splitPayload,
} from '@m4sc/transport';
import { BehaviorSubject, type Observable, Subject, type Subscription } from 'rxjs';
import { DEFAULT_FPS, DEFAULT_HEIGHT, DEFAULT_STATS_INTERVAL_MS, DEFAULT_WIDTH } from './defaults.js';
import { type RgbFrame, testPatternFrame } from './sources/testPattern.js';
import type { ReceiverInfo, SenderStats } from './types.js';

/** Options of {@link createSender}. */
export interface SenderOptions {
  /** Signaling server URL, `ws://host:port`. */
  signalUrl: string;
  /** Room to send to. */
  room: string;
  /** Room token when the signaling server has a secret. */
  token?: string;
  /** Creates one RTCPeerConnection per receiver (e.g. `createWeriftPeerConnection({ loopback: true })`). */
  createPeerConnection: () => unknown;
  /** Frames per second. Default {@link DEFAULT_FPS}. */
  fps?: number;
  /** Frame size, pixels. Default 64×64. */
  width?: number;
  height?: number;
  /** Frame source: frame `index` → RGB frame. Default: the moving test pattern. */
  source?: (index: number) => RgbFrame;
  /** Payload bytes per packet; default: what the transport allows under its MTU. */
  maxPacketBytes?: number;
  /** How often `stats$` emits, milliseconds. Default 1000. */
  statsIntervalMs?: number;
  logger?: Logger;
}

/** A running sender. */
export interface Sender {
  readonly room: string;
  readonly signalUrl: string;
  /** Live figures, every `statsIntervalMs`. Completes on close. */
  readonly stats$: Observable<SenderStats>;
  /** Current receivers. */
  readonly receivers: readonly ReceiverInfo[];
  /** Stops the source, closes every peer and leaves the room. Idempotent. */
  close(): Promise<void>;
}

interface Session {
  peerId: string;
  link: PeerLink;
  state: ReceiverInfo['state'];
  stats: LinkStats | undefined;
  subs: Subscription[];
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Joins `room` as its sender, opens one peer link per receiver and streams the source to every receiver.
 * Each sample is produced and packetised once, then fanned out to every connected receiver.
 */
export async function createSender(options: SenderOptions): Promise<Sender> {
  const fps = options.fps ?? DEFAULT_FPS;
  const width = options.width ?? DEFAULT_WIDTH;
  const height = options.height ?? DEFAULT_HEIGHT;
  if (!(fps > 0 && fps <= 120)) throw new TypeError(`fps must be in (0, 120], got ${fps}`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 8 || height < 8) {
    throw new TypeError(`frame size must be integers ≥ 8, got ${width}×${height}`);
  }
  const log = options.logger ?? silent;
  const source = options.source ?? ((i: number) => testPatternFrame(i, width, height));
  const client: SignalingClient = await connectSignaling({
    url: options.signalUrl,
    room: options.room,
    role: 'sender',
    reconnect: true,
    ...(options.token ? { token: options.token } : {}),
  });

  const sessions = new Map<string, Session>();
  const stats$ = new Subject<SenderStats>();
  const receivers$ = new BehaviorSubject<readonly ReceiverInfo[]>([]);
  let closed = false;
  let sampleIndex = 0;
  let samplesAtLastStats = 0;
  let lastStatsMs = Date.now();
  let publicBytesPerSample = 0;

  const info = (): ReceiverInfo[] =>
    [...sessions.values()].map((s) => ({ peerId: s.peerId, state: s.state, link: s.stats }));
  const publish = () => receivers$.next(info());

  const closeSession = (peerId: string, reason: string) => {
    const s = sessions.get(peerId);
    if (!s) return;
    sessions.delete(peerId);
    for (const sub of s.subs) sub.unsubscribe();
    s.state = 'closed';
    s.link.close();
    log.info('receiver left', { peerId, reason });
    publish();
  };

  const openSession = (peerId: string) => {
    closeSession(peerId, 'renegotiate');
    const link = createPeerLink({
      pc: options.createPeerConnection() as never,
      role: 'offerer',
      sendSignal: (data: PeerSignal) => {
        if (client.state === 'joined') client.signal(peerId, data as never);
      },
    });
    const session: Session = { peerId, link, state: 'connecting', stats: undefined, subs: [] };
    sessions.set(peerId, session);
    session.subs.push(
      link.stats$.subscribe((st) => {
        session.stats = st;
      }),
    );
    link.connected.then(
      () => {
        if (sessions.get(peerId) !== session) return;
        session.state = 'connected';
        log.info('receiver connected', { peerId });
        publish();
      },
      (err: unknown) => {
        log.warn('receiver failed to connect', { peerId, error: String(err) });
        closeSession(peerId, 'connect-failed');
      },
    );
    log.info('receiver joined', { peerId });
    publish();
  };

  const eventsSub = client.events$.subscribe((ev) => {
    switch (ev.type) {
      case 'peer-joined':
        if (ev.role === 'receiver') openSession(ev.peerId);
        break;
      case 'peer-left':
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
  // Receivers already in the room when the sender joins.
  for (const p of client.peers) if (p.role === 'receiver') openSession(p.peerId);

  const tick = () => {
    if (closed) return;
    const index = sampleIndex++;
    const frame = source(index);
    const connected = [...sessions.values()].filter((s) => s.state === 'connected');
    const first = connected[0];
    if (!first) return;
    const packetBytes = options.maxPacketBytes ?? first.link.maxPacketPayloadBytes;
    const packets = splitPayload(frame.data, packetBytes);
    publicBytesPerSample = frame.data.byteLength;
    const sample = {
      seq: index,
      captureTsMs: Date.now(),
      op: { kind: 'raw-rgb', width: frame.width, height: frame.height, packetBytes },
      packets,
    };
    for (const s of connected) {
      try {
        s.link.sendSample('public', sample);
      } catch (err) {
        log.warn('send failed', { peerId: s.peerId, error: String(err) });
      }
    }
  };
  const frameTimer = setInterval(tick, 1000 / fps);
  const statsTimer = setInterval(() => {
    const now = Date.now();
    const dt = (now - lastStatsMs) / 1000;
    stats$.next({
      timestampMs: now,
      samples: sampleIndex,
      fps: dt > 0 ? (sampleIndex - samplesAtLastStats) / dt : 0,
      publicBytesPerSample,
      receivers: info(),
    });
    samplesAtLastStats = sampleIndex;
    lastStatsMs = now;
  }, options.statsIntervalMs ?? DEFAULT_STATS_INTERVAL_MS);

  return {
    room: options.room,
    signalUrl: options.signalUrl,
    stats$: stats$.asObservable(),
    get receivers() {
      return receivers$.value;
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(frameTimer);
      clearInterval(statsTimer);
      eventsSub.unsubscribe();
      for (const id of [...sessions.keys()]) closeSession(id, 'sender-closed');
      client.close();
      stats$.complete();
      receivers$.complete();
    },
  };
}
