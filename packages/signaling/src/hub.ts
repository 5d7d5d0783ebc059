import { randomBytes } from 'node:crypto';
import { Subject } from 'rxjs';
import { WebSocket } from 'ws';
import { decodeFrame, encodeMessage, jsonByteLength } from './codec.js';
import { SEND_BUFFER_HIGH_WATERMARK_BYTES } from './defaults.js';
import type { Logger } from './logger.js';
import {
  CLOSE_CODES,
  type ErrorCode,
  type JoinMessage,
  type PeerLeftReason,
  type PeerSummary,
  PROTOCOL_VERSION,
  parseClientMessage,
  type RoomInfo,
  type ServerMessage,
  type SignalMessage,
} from './protocol.js';
import type { SignalingServerEvent, SignalingStats } from './serverTypes.js';
import type { Session } from './session.js';
import { verifyRoomToken } from './token.js';

/** Resolved limits the hub enforces. */
export interface HubConfig {
  maxSignalDataBytes: number;
  maxRoomInfoBytes: number;
  maxPeersPerRoom: number;
  rateMessagesPerSecond: number;
  rateBurstMessages: number;
  joinTimeoutMs: number;
  secret: string | undefined;
}

interface Room {
  readonly name: string;
  readonly peers: Map<string, Session>;
  senderId: string | undefined;
  info: RoomInfo | undefined;
}

const newId = (bytes: number) => randomBytes(bytes).toString('base64url');

/**
 * Rooms, membership and message routing: everything the server does with a message once a frame has
 * arrived. Internal; `createSignalingServer` owns the sockets and feeds this.
 */
export class Hub {
  readonly #config: HubConfig;
  readonly #log: Logger;
  readonly #rooms = new Map<string, Room>();
  /** Every joined peer, by id: peer ids are unique across the server. */
  readonly #peers = new Map<string, Session>();
  readonly #stats: SignalingStats = {
    connections: 0,
    connectionsTotal: 0,
    rooms: 0,
    peers: 0,
    messagesIn: 0,
    messagesOut: 0,
    messagesDropped: 0,
    signalsRelayed: 0,
    refusals: {},
  };
  readonly #stats$ = new Subject<SignalingStats>();
  readonly #events$ = new Subject<SignalingServerEvent>();
  #statsScheduled = false;
  #shuttingDown = false;

  readonly stats$ = this.#stats$.asObservable();
  readonly events$ = this.#events$.asObservable();

  constructor(config: HubConfig, log: Logger) {
    this.#config = config;
    this.#log = log;
  }

  get stats(): SignalingStats {
    return { ...this.#stats, refusals: { ...this.#stats.refusals } };
  }

  /** A socket was accepted. */
  opened(session: Session): void {
    this.#stats.connections += 1;
    this.#stats.connectionsTotal += 1;
    this.#armJoinTimer(session);
    this.#changed();
  }

  /** A socket is gone: its peer leaves its room, with `session.leaveReason`. */
  closed(session: Session): void {
    this.#stats.connections -= 1;
    clearTimeout(session.joinTimer);
    this.#leave(session, session.leaveReason);
    this.#changed();
  }

  /** One frame arrived. Never throws. */
  received(session: Session, data: Buffer, isBinary: boolean, nowMs: number): void {
    this.#stats.messagesIn += 1;
    session.alive = true;
    this.#changed();
    const decision = session.bucket.take(nowMs);
    if (decision !== 'allow') {
      this.#stats.messagesDropped += 1;
      if (decision === 'close') {
        const message = `rate limit exceeded: ${session.bucket.dropped} messages dropped`;
        this.kick(session, CLOSE_CODES.rateLimited, message, 'rate-limited');
      } else if (session.bucket.dropped === 1) {
        const { rateMessagesPerSecond: rate, rateBurstMessages: burst } = this.#config;
        this.refuse(
          session,
          'rate-limited',
          `rate limit exceeded (${rate} msg/s, burst ${burst}): messages are dropped; slow down or be disconnected`,
        );
      }
      return;
    }
    const decoded = decodeFrame(isBinary ? data : data.toString('utf8'));
    session.encoding = decoded.encoding;
    if (!decoded.ok) {
      this.refuse(session, 'malformed', decoded.message);
      return;
    }
    const parsed = parseClientMessage(decoded.value);
    if (!parsed.ok) {
      this.refuse(session, parsed.code, parsed.message, parsed.ref);
      return;
    }
    const msg = parsed.message;
    try {
      switch (msg.type) {
        case 'ping':
          this.send(session, { type: 'pong', id: msg.id });
          return;
        case 'join':
          this.#join(session, msg);
          return;
        case 'signal':
          this.#signal(session, msg);
          return;
        case 'leave':
          if (!session.membership) this.refuse(session, 'not-joined', 'leave: not in a room', 'leave');
          else this.#leave(session, 'left');
          this.#armJoinTimer(session);
          return;
        case 'room-info':
          this.#setRoomInfo(session, msg.info);
          return;
      }
    } catch (err) {
      this.#log.error('handler failed', { type: msg.type, error: (err as Error).message });
      this.refuse(session, 'internal', `internal error while handling ${msg.type}`, msg.type);
    }
  }

  /** Sends one message in the session's encoding; drops a peer that stopped reading. */
  send(session: Session, message: ServerMessage): void {
    const socket = session.socket;
    if (socket.readyState !== WebSocket.OPEN) return;
    if (socket.bufferedAmount > SEND_BUFFER_HIGH_WATERMARK_BYTES) {
      this.#log.warn('dropping slow peer', { remote: session.remote, bufferedBytes: socket.bufferedAmount });
      session.leaveReason = 'kicked';
      socket.terminate();
      return;
    }
    socket.send(encodeMessage(message, session.encoding));
    this.#stats.messagesOut += 1;
    this.#changed();
  }

  /** Replies with an `error`, counts it, and reports it on `events$`. */
  refuse(session: Session, code: ErrorCode, message: string, ref?: string, room?: string): void {
    this.#count(code);
    const joinRefusal = ref === 'join' || code === 'join-timeout';
    (joinRefusal ? this.#log.info : this.#log.debug)('refused', {
      code,
      remote: session.remote,
      room,
      message,
    });
    this.#events$.next({ type: 'refused', code, message, remote: session.remote, ...(room ? { room } : {}) });
    this.send(session, { type: 'error', code, message, ...(ref === undefined ? {} : { ref }) });
  }

  /** Closes a connection for cause; its room is told it was kicked. */
  kick(session: Session, closeCode: number, message: string, code: ErrorCode): void {
    this.#count(code);
    this.#log.info('closing connection', { code, remote: session.remote, message });
    this.#events$.next({ type: 'refused', code, message, remote: session.remote });
    session.leaveReason = 'kicked';
    if (session.socket.readyState === WebSocket.OPEN) session.socket.close(closeCode, message.slice(0, 120));
  }

  /** Counts a refusal the hub did not send itself (e.g. ws closed a connection for an oversized frame). */
  countRefusal(session: Session, code: ErrorCode, message: string): void {
    this.#count(code);
    this.#log.info('closing connection', { code, remote: session.remote, message });
    this.#events$.next({ type: 'refused', code, message, remote: session.remote });
    session.leaveReason = 'kicked';
  }

  /** Stops broadcasting departures (everyone is leaving) and completes the observables. */
  shutdown(): void {
    this.#shuttingDown = true;
  }

  complete(): void {
    this.#stats$.next(this.stats);
    this.#stats$.complete();
    this.#events$.complete();
  }

  #count(code: ErrorCode): void {
    this.#stats.refusals[code] = (this.#stats.refusals[code] ?? 0) + 1;
    this.#changed();
  }

  #changed(): void {
    if (this.#statsScheduled || this.#stats$.closed) return;
    this.#statsScheduled = true;
    setImmediate(() => {
      this.#statsScheduled = false;
      if (!this.#stats$.closed) this.#stats$.next(this.stats);
    });
  }

  #armJoinTimer(session: Session): void {
    clearTimeout(session.joinTimer);
    if (this.#config.joinTimeoutMs <= 0) return;
    session.joinTimer = setTimeout(() => {
      if (session.membership) return;
      const message = `no join within ${this.#config.joinTimeoutMs} ms`;
      this.refuse(session, 'join-timeout', message);
      if (session.socket.readyState === WebSocket.OPEN)
        session.socket.close(CLOSE_CODES.joinTimeout, message);
    }, this.#config.joinTimeoutMs);
    session.joinTimer.unref?.();
  }

  #join(session: Session, msg: JoinMessage): void {
    const { room: name, role } = msg;
    const refuse = (code: ErrorCode, message: string) => this.refuse(session, code, message, 'join', name);
    if (session.membership) {
      refuse('already-joined', `already in room "${session.membership.room}"; send leave first`);
      return;
    }
    if (this.#config.secret !== undefined) {
      const verdict = verifyRoomToken({ secret: this.#config.secret, token: msg.token, room: name, role });
      if (!verdict.ok) {
        refuse(verdict.reason, verdict.message);
        return;
      }
    }
    const room = this.#rooms.get(name);
    // A rejoin may take over its own peerId from a connection the server still thinks is alive.
    let replacing: Session | undefined;
    if (msg.peerId !== undefined) {
      const holder = this.#peers.get(msg.peerId);
      if (holder) {
        if (msg.resumeKey === undefined || holder.membership?.resumeKey !== msg.resumeKey) {
          refuse('peer-id-in-use', `peerId "${msg.peerId}" is in use`);
          return;
        }
        replacing = holder;
      }
    }
    const sameRoom = replacing?.membership?.room === name;
    const count = room ? room.peers.size - (sameRoom ? 1 : 0) : 0;
    if (count >= this.#config.maxPeersPerRoom) {
      refuse('room-full', `room "${name}" is full (${this.#config.maxPeersPerRoom} peers)`);
      return;
    }
    if (
      role === 'sender' &&
      room?.senderId !== undefined &&
      !(sameRoom && replacing?.membership?.peerId === room.senderId)
    ) {
      refuse('sender-exists', `room "${name}" already has a sender`);
      return;
    }
    if (replacing) {
      this.#leave(replacing, 'replaced');
      replacing.leaveReason = 'replaced';
      if (replacing.socket.readyState === WebSocket.OPEN) {
        replacing.socket.close(CLOSE_CODES.replaced, 'replaced by a new connection with the same peerId');
      }
    }
    const target = this.#rooms.get(name) ?? this.#createRoom(name);
    const peerId = msg.peerId ?? newId(9);
    const membership = { room: name, peerId, role, resumeKey: newId(16) };
    clearTimeout(session.joinTimer);
    session.membership = membership;
    const others = [...target.peers.values()];
    target.peers.set(peerId, session);
    this.#peers.set(peerId, session);
    if (role === 'sender') target.senderId = peerId;
    this.#stats.peers += 1;
    // Receivers only ever deal with the sender, so they see only the sender; the sender sees everyone.
    const visible = (s: Session) => role === 'sender' || s.membership?.role === 'sender';
    const peers: PeerSummary[] = others
      .filter(visible)
      .map((s) => ({ peerId: s.membership!.peerId, role: s.membership!.role }));
    this.send(session, {
      type: 'joined',
      version: PROTOCOL_VERSION,
      peerId,
      room: name,
      role,
      peers,
      resumeKey: membership.resumeKey,
      ...(role === 'receiver' && target.info ? { info: target.info } : {}),
    });
    for (const other of others) {
      if (visible(other)) this.send(other, { type: 'peer-joined', peerId, role });
    }
    this.#log.info('join', { room: name, peerId, role, remote: session.remote, peers: target.peers.size });
    this.#events$.next({ type: 'peer-joined', room: name, peerId, role });
    this.#changed();
  }

  #createRoom(name: string): Room {
    const room: Room = { name, peers: new Map(), senderId: undefined, info: undefined };
    this.#rooms.set(name, room);
    this.#stats.rooms += 1;
    return room;
  }

  #leave(session: Session, reason: PeerLeftReason): void {
    const m = session.membership;
    if (!m) return;
    session.membership = undefined;
    const room = this.#rooms.get(m.room);
    this.#peers.delete(m.peerId);
    this.#stats.peers -= 1;
    if (room) {
      room.peers.delete(m.peerId);
      if (room.senderId === m.peerId) {
        room.senderId = undefined;
        room.info = undefined; // the metadata belongs to the sender that set it
      }
      if (room.peers.size === 0) {
        this.#rooms.delete(m.room);
        this.#stats.rooms -= 1;
      } else if (!this.#shuttingDown) {
        for (const other of room.peers.values()) {
          if (m.role === 'sender' || other.membership?.role === 'sender') {
            this.send(other, { type: 'peer-left', peerId: m.peerId, role: m.role, reason });
          }
        }
      }
    }
    this.#log.info('leave', { room: m.room, peerId: m.peerId, role: m.role, reason, remote: session.remote });
    this.#events$.next({ type: 'peer-left', room: m.room, peerId: m.peerId, role: m.role, reason });
    this.#changed();
  }

  #signal(session: Session, msg: SignalMessage): void {
    const m = session.membership;
    if (!m) {
      this.refuse(session, 'not-joined', 'signal: join a room first', 'signal');
      return;
    }
    const room = this.#rooms.get(m.room);
    const target = room?.peers.get(msg.to);
    if (msg.to === m.peerId) {
      this.refuse(session, 'forbidden', 'signal: cannot signal yourself', 'signal');
      return;
    }
    if (m.role === 'receiver' && msg.to !== room?.senderId) {
      const hint = room?.senderId ? ` (the sender is "${room.senderId}")` : ' (the room has no sender yet)';
      this.refuse(session, 'forbidden', `signal: receivers may only signal the sender${hint}`, 'signal');
      return;
    }
    if (!target) {
      this.refuse(session, 'unknown-peer', `signal: no peer "${msg.to}" in room "${m.room}"`, 'signal');
      return;
    }
    const size = jsonByteLength(msg.data);
    if (size === undefined || size > this.#config.maxSignalDataBytes) {
      const detail = size === undefined ? 'not JSON-serialisable' : `${size} bytes`;
      this.refuse(
        session,
        'too-large',
        `signal: data is ${detail}; the limit is ${this.#config.maxSignalDataBytes} bytes`,
        'signal',
      );
      return;
    }
    this.send(target, { type: 'signal', from: m.peerId, data: msg.data });
    this.#stats.signalsRelayed += 1;
  }

  #setRoomInfo(session: Session, info: RoomInfo): void {
    const m = session.membership;
    if (!m) {
      this.refuse(session, 'not-joined', 'room-info: join a room first', 'room-info');
      return;
    }
    if (m.role !== 'sender') {
      this.refuse(session, 'forbidden', 'room-info: only the sender sets room info', 'room-info');
      return;
    }
    const size = jsonByteLength(info);
    if (size === undefined || size > this.#config.maxRoomInfoBytes) {
      this.refuse(
        session,
        'too-large',
        `room-info: info is ${size ?? '?'} bytes; the limit is ${this.#config.maxRoomInfoBytes} bytes`,
        'room-info',
      );
      return;
    }
    const room = this.#rooms.get(m.room);
    if (!room) return;
    room.info = info;
    for (const other of room.peers.values()) {
      if (other !== session) this.send(other, { type: 'room-info', info });
    }
  }
}
