import type { Logger, SignalingClient } from '@m4sc/signaling';
import {
  createIceRestartBackoff,
  createPeerLink,
  type PeerConnectionLike,
  type PeerSignal,
  type ReconnectRequest,
  sdpSessionId,
  TokenBucket,
} from '@m4sc/transport';
import type { Subscription } from 'rxjs';
import { CONTROL_BURST, CONTROL_RATE_PER_SEC } from './defaults.js';
import type { Session } from './session.js';

/** Wait before replacing a receiver's failed or closed link, ms: a receiver that quits closes its channels just before its `leave` reaches us. */
const LINK_FALLBACK_GRACE_MS = 500;
/** Offers to a receiver whose connection failed, before giving up (backoff 0.5, 1, 2, 4 s). */
const CONNECT_RETRIES = 4;

/** What {@link createReceiverSessions} needs. */
export interface ReceiverSessionsOptions {
  /** The room, through which each link's offer and candidates go. */
  client: SignalingClient;
  /** Creates one RTCPeerConnection per receiver. */
  createPeerConnection: () => PeerConnectionLike;
  /** Subscribes a new session's link (figures, control); the subscriptions end with the session. */
  onOpen(s: Session): Subscription[];
  /** Called once a session's link is connected (the sender greets it). */
  onConnected(s: Session): void;
  /** Called when a session has been closed, before `receiver left` is logged. */
  onClosed(peerId: string): void;
  /** True once the sender is closing: no link is opened again. */
  senderClosed(): boolean;
  log: Logger;
}

/**
 * The sender's receivers: one session (a peer link) each, opened when it joins the room and closed when it
 * leaves. A link that goes silent restarts ICE; one that fails for good, or never connects, is replaced by
 * a new connection while the receiver is still in the room.
 */
export interface ReceiverSessions {
  /** The sessions by receiver peer id, in join order. */
  readonly all: ReadonlyMap<string, Session>;
  /** The session of `peerId`, if any. */
  get(peerId: string): Session | undefined;
  /** The connected sessions now. */
  connected(): Session[];
  /** A receiver joined the room (or rejoined signaling): opens its session, or keeps the one it has. */
  join(peerId: string): void;
  /** A receiver left the room for `reason`. */
  leave(peerId: string, reason: string): void;
  /**
   * Hands a signaling message from a receiver to its link; a {@link ReconnectRequest} (its side of a link
   * still connecting failed) replaces that link with a new one, as a failure on our side would.
   */
  signal(from: string, data: PeerSignal | ReconnectRequest): void;
  /** Closes one session (idempotent). */
  close(peerId: string, reason: string): void;
  /** Closes every session (`sender-closed`). */
  closeAll(): void;
}

/** The receiver sessions of one sender. */
export function createReceiverSessions(o: ReceiverSessionsOptions): ReceiverSessions {
  const { client, log } = o;
  const sessions = new Map<string, Session>();
  /** Failed connection attempts per receiver, for the retry backoff. */
  const connectAttempts = new Map<string, number>();
  /** The SDP session id of each session's offers ({@link sdpSessionId}), to match a receiver's reconnect request. */
  const offerIds = new WeakMap<Session, string>();
  let joinCounter = 0;

  const closeSession = (peerId: string, reason: string) => {
    const s = sessions.get(peerId);
    if (!s) return;
    sessions.delete(peerId);
    for (const sub of s.subs) sub.unsubscribe();
    s.state = 'closed';
    s.link.close();
    o.onClosed(peerId);
    log.info('receiver left', { peerId, reason });
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
          if (o.senderClosed() || sessions.has(peerId) || !client.peers.some((p) => p.peerId === peerId))
            return;
          log.warn('receiver link failed; reconnecting with a new peer connection', { peerId });
          openSession(peerId);
        }, LINK_FALLBACK_GRACE_MS);
      }
    });
  };

  /** A link that never connected (on either side): closed, and offered again with backoff while the receiver is in the room. */
  const connectFailed = (peerId: string, error: string) => {
    closeSession(peerId, 'connect-failed');
    // ICE can fail on a loaded host or a lossy path: offer again, with backoff, while it is in the room.
    const attempt = (connectAttempts.get(peerId) ?? 0) + 1;
    connectAttempts.set(peerId, attempt);
    if (attempt > CONNECT_RETRIES || o.senderClosed()) {
      log.warn('receiver failed to connect; giving up', { peerId, attempts: attempt, error });
      return;
    }
    const delayMs = 500 * 2 ** (attempt - 1);
    log.warn('receiver failed to connect; offering again', { peerId, attempt, delayMs, error });
    setTimeout(() => {
      if (!o.senderClosed() && !sessions.has(peerId) && client.peers.some((p) => p.peerId === peerId))
        openSession(peerId);
    }, delayMs);
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
      pc: o.createPeerConnection(),
      role: 'offerer',
      sendSignal: (data: PeerSignal) => {
        if (data.type === 'offer') {
          const id = sdpSessionId(data.sdp);
          const s = sessions.get(peerId);
          if (id && s?.link === link) offerIds.set(s, id);
        }
        if (client.state === 'joined') client.signal(peerId, data as never);
      },
      opBudgetBytes: 128,
      logger: log,
      // A `link-report` tells the peer what arrived on the sample channels; receivers send the sender none,
      // so ours would be empty, and a third of this link's control sends (128 links: ~256 a second).
      autoLinkReport: false,
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
    s.subs.push(...o.onOpen(s), linkStates(s));
    link.connected.then(
      () => {
        if (sessions.get(peerId) !== s) return;
        s.state = 'connected';
        connectAttempts.delete(peerId);
        o.onConnected(s);
        log.info('receiver connected', { peerId });
      },
      (err: unknown) => {
        if (sessions.get(peerId) !== s) return; // replaced or closed meanwhile
        connectFailed(peerId, String(err));
      },
    );
    log.info('receiver joined', { peerId });
  };

  return {
    all: sessions,
    get: (peerId) => sessions.get(peerId),
    connected: () => [...sessions.values()].filter((s) => s.state === 'connected'),
    join: openSession,
    leave(peerId, reason) {
      // `replaced`: the receiver rejoined signaling on a new connection (its path changed, or its old
      // connection died): its `peer-joined` follows at once, and its peer connection is still ours to keep.
      if (reason === 'replaced' && sessions.get(peerId)?.state === 'connected') {
        log.info('receiver reconnected to signaling; keeping its peer connection', { peerId });
        return;
      }
      connectAttempts.delete(peerId);
      closeSession(peerId, reason);
    },
    signal(from, data) {
      const s = sessions.get(from);
      if (!s) {
        log.warn('signal from unknown peer dropped', { from, type: String(data.type) });
        return;
      }
      if (data.type === 'reconnect') {
        // Its side of the link failed before connecting; ours may go on trying until the connect timeout.
        const reason = String(data.reason).slice(0, 200);
        if (s.state !== 'connecting' || offerIds.get(s) !== data.offer) {
          log.info('reconnect request about a link already replaced or connected; ignored', {
            peerId: from,
            reason,
          });
          return;
        }
        log.warn('receiver link failed on its side', { peerId: from, reason });
        connectFailed(from, `receiver: ${reason}`);
        return;
      }
      try {
        s.link.handleSignal(data);
      } catch (err) {
        log.warn('bad signal dropped', { from, error: String(err) });
      }
    },
    close: closeSession,
    closeAll() {
      for (const id of [...sessions.keys()]) closeSession(id, 'sender-closed');
    },
  };
}
