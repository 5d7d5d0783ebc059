import { Subject } from 'rxjs';
import type {
  SignalingClient,
  SignalingClientEvent,
  SignalingClientOptions,
  SignalingClientState,
  WebSocketConstructor,
  WebSocketLike,
} from './clientTypes.js';
import { decodeFrame, type Encoding, encodeMessage } from './codec.js';
import { DEFAULT_CONNECT_TIMEOUT_MS } from './defaults.js';
import { ConnectionError, InvalidStateError } from './errors.js';
import { type Logger, silentLogger } from './logger.js';
import {
  CLOSE_CODES,
  type ClientMessage,
  describeIssues,
  type JoinedMessage,
  type PeerSummary,
  type Role,
  type RoomInfo,
  type ServerMessage,
  type SignalData,
  serverMessageSchema,
} from './protocol.js';
import { createExponentialBackoff, type ReconnectPolicy } from './reconnect.js';

const OPEN = 1;
const DEFAULT_PING_TIMEOUT_MS = 5000;

async function defaultWebSocket(): Promise<WebSocketConstructor> {
  const native = (globalThis as { WebSocket?: unknown }).WebSocket;
  if (typeof native === 'function') return native as WebSocketConstructor;
  const ws = await import('ws');
  return ws.WebSocket as unknown as WebSocketConstructor;
}

const closeText = (code: number, reason: string) => `code ${code}${reason ? `: ${reason}` : ''}`;

/** One live connection attempt; resolves with `joined`, or rejects with a ConnectionError. */
interface Link {
  socket: WebSocketLike;
  joined: Promise<JoinedMessage>;
}

class Client implements SignalingClient {
  readonly room: string;
  readonly role: Role;
  readonly #options: SignalingClientOptions;
  readonly #WebSocket: WebSocketConstructor;
  readonly #encoding: Encoding;
  readonly #timeoutMs: number;
  readonly #policy: ReconnectPolicy | undefined;
  readonly #log: Logger;
  readonly #events$ = new Subject<SignalingClientEvent>();
  readonly events$ = this.#events$.asObservable();
  readonly #peers = new Map<string, PeerSummary>();
  readonly #pings = new Map<
    number,
    { sentMs: number; resolve: (rttMs: number) => void; reject: (e: Error) => void }
  >();
  #socket: WebSocketLike | undefined;
  #peerId = '';
  #resumeKey: string | undefined;
  #roomInfo: RoomInfo | undefined;
  #state: SignalingClientState = 'joined';
  #held: SignalingClientEvent[] | undefined;
  #nextPingId = 1;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;

  constructor(options: SignalingClientOptions, WebSocket: WebSocketConstructor) {
    this.#options = options;
    this.room = options.room;
    this.role = options.role;
    this.#WebSocket = WebSocket;
    this.#encoding = options.encoding ?? 'json';
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.#policy =
      options.reconnect === true
        ? createExponentialBackoff()
        : options.reconnect
          ? options.reconnect
          : undefined;
    this.#log = options.logger ?? silentLogger;
  }

  get peerId() {
    return this.#peerId;
  }
  get peers() {
    return [...this.#peers.values()];
  }
  get roomInfo() {
    return this.#roomInfo;
  }
  get state() {
    return this.#state;
  }

  /** Connects and joins; used for the first join and for every rejoin. */
  async connect(): Promise<void> {
    await this.#open(this.#options.peerId, false).joined;
  }

  signal(to: string, data: SignalData): void {
    if (typeof to !== 'string' || to.length === 0) throw new TypeError('signal: to must be a peerId');
    if (typeof data !== 'object' || data === null || typeof data.type !== 'string') {
      throw new TypeError('signal: data must be an object with a string type');
    }
    this.#send({ type: 'signal', to, data }, 'signal');
  }

  setRoomInfo(info: RoomInfo): void {
    if (typeof info !== 'object' || info === null || Array.isArray(info)) {
      throw new TypeError('setRoomInfo: info must be a plain object');
    }
    this.#send({ type: 'room-info', info }, 'setRoomInfo');
  }

  ping(timeoutMs = DEFAULT_PING_TIMEOUT_MS): Promise<number> {
    const id = this.#nextPingId++;
    this.#send({ type: 'ping', id }, 'ping');
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pings.delete(id);
        reject(new ConnectionError('timeout', `ping: no pong within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pings.set(id, {
        sentMs: performance.now(),
        resolve: (rtt) => {
          clearTimeout(timer);
          resolve(rtt);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
    });
  }

  close(): void {
    if (this.#state === 'closed') return;
    const socket = this.#socket;
    if (socket && socket.readyState === OPEN) {
      try {
        socket.send(encodeMessage({ type: 'leave' }, this.#encoding));
      } catch {
        // the socket is going away anyway
      }
    }
    this.#finish(1000, 'closed by client');
  }

  #send(message: ClientMessage, what: string): void {
    if (this.#state !== 'joined' || !this.#socket || this.#socket.readyState !== OPEN) {
      throw new InvalidStateError(
        `${what}: client is ${this.#state === 'joined' ? 'disconnected' : this.#state}`,
      );
    }
    this.#socket.send(encodeMessage(message, this.#encoding));
  }

  /** Opens a socket and joins; on `joined` the socket is adopted synchronously, before anything after it. */
  #open(peerId: string | undefined, rejoin: boolean): Link {
    const { url, room, role, token } = this.#options;
    let socket: WebSocketLike;
    try {
      socket = new this.#WebSocket(url);
    } catch (err) {
      return {
        socket: undefined as unknown as WebSocketLike,
        joined: Promise.reject(
          new ConnectionError('unreachable', `cannot open ${url}: ${(err as Error).message}`, { cause: err }),
        ),
      };
    }
    socket.binaryType = 'arraybuffer';
    const joined = new Promise<JoinedMessage>((resolve, reject) => {
      let opened = false;
      let settled = false;
      const fail = (err: ConnectionError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null;
        try {
          socket.close(1000, 'join failed');
        } catch {
          // already closed
        }
        reject(err);
      };
      const timer = setTimeout(
        () => fail(new ConnectionError('timeout', `no joined from ${url} within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
      socket.onopen = () => {
        opened = true;
        const join: ClientMessage = {
          type: 'join',
          room,
          role,
          ...(token === undefined ? {} : { token }),
          ...(peerId ? { peerId } : {}),
          ...(peerId && this.#resumeKey ? { resumeKey: this.#resumeKey } : {}),
        };
        socket.send(encodeMessage(join, this.#encoding));
      };
      socket.onerror = () => {
        // the close event that follows says what happened
      };
      socket.onclose = (ev) => {
        fail(
          opened
            ? new ConnectionError('closed', `${url} closed before join (${closeText(ev.code, ev.reason)})`)
            : new ConnectionError('unreachable', `cannot reach ${url} (${closeText(ev.code, ev.reason)})`),
        );
      };
      socket.onmessage = (ev) => {
        const msg = this.#decode(ev.data);
        if (!msg)
          return fail(new ConnectionError('protocol', `${url} sent a message that is not m4sc signaling`));
        if (msg.type === 'joined') {
          if (rejoin && this.#state !== 'reconnecting')
            return fail(new ConnectionError('closed', 'client closed'));
          settled = true;
          clearTimeout(timer);
          this.#adopt(socket, msg, rejoin);
          resolve(msg);
        } else if (msg.type === 'error') {
          fail(new ConnectionError('refused', `join refused: ${msg.message}`, { code: msg.code }));
        }
      };
    });
    return { socket, joined };
  }

  #decode(data: unknown): ServerMessage | undefined {
    if (typeof data !== 'string' && !(data instanceof ArrayBuffer) && !(data instanceof Uint8Array))
      return undefined;
    const decoded = decodeFrame(data);
    if (!decoded.ok) {
      this.#log.warn('undecodable frame from server', { error: decoded.message });
      return undefined;
    }
    const parsed = serverMessageSchema.safeParse(decoded.value);
    if (!parsed.success) {
      this.#log.warn('invalid message from server', { error: describeIssues(parsed.error) });
      return undefined;
    }
    return parsed.data;
  }

  /** Makes a joined socket the live one. */
  #adopt(socket: WebSocketLike, joined: JoinedMessage, rejoin: boolean): void {
    // Hold what arrives with `joined` until the caller could subscribe (see events$).
    this.#held ??= [];
    this.#state = 'joined';
    this.#socket = socket;
    this.#peerId = joined.peerId;
    this.#resumeKey = joined.resumeKey;
    this.#roomInfo = joined.info;
    this.#peers.clear();
    for (const p of joined.peers) this.#peers.set(p.peerId, p);
    socket.onmessage = (ev) => {
      const msg = this.#decode(ev.data);
      if (msg) this.#dispatch(msg);
    };
    socket.onclose = (ev) => this.#dropped(socket, ev.code, ev.reason);
    this.#startHeartbeat(socket);
    if (rejoin) this.#emit({ type: 'reconnected', peers: this.peers });
    setTimeout(() => {
      const held = this.#held ?? [];
      this.#held = undefined;
      for (const ev of held) this.#emit(ev);
    }, 0);
    this.#log.info('joined', {
      room: this.room,
      peerId: joined.peerId,
      role: this.role,
      peers: joined.peers.length,
    });
  }

  #emit(event: SignalingClientEvent): void {
    if (this.#held) this.#held.push(event);
    else this.#events$.next(event);
  }

  #dispatch(msg: ServerMessage): void {
    switch (msg.type) {
      case 'peer-joined':
        this.#peers.set(msg.peerId, { peerId: msg.peerId, role: msg.role });
        this.#emit({ type: 'peer-joined', peerId: msg.peerId, role: msg.role });
        return;
      case 'peer-left':
        this.#peers.delete(msg.peerId);
        this.#emit({ type: 'peer-left', peerId: msg.peerId, role: msg.role, reason: msg.reason });
        return;
      case 'signal':
        this.#emit({ type: 'signal', from: msg.from, data: msg.data });
        return;
      case 'room-info':
        this.#roomInfo = msg.info;
        this.#emit({ type: 'room-info', info: msg.info });
        return;
      case 'error':
        this.#emit({
          type: 'error',
          code: msg.code,
          message: msg.message,
          ...(msg.ref === undefined ? {} : { ref: msg.ref }),
        });
        return;
      case 'pong': {
        const pending = typeof msg.id === 'number' ? this.#pings.get(msg.id) : undefined;
        if (pending && typeof msg.id === 'number') {
          this.#pings.delete(msg.id);
          pending.resolve(performance.now() - pending.sentMs);
        }
        return;
      }
      case 'joined':
        return;
    }
  }

  /** Pings every `heartbeatMs`; a ping still unanswered at the next one drops the socket (see the option). */
  #startHeartbeat(socket: WebSocketLike): void {
    const ms = this.#options.heartbeatMs ?? 0;
    clearInterval(this.#heartbeatTimer);
    if (ms <= 0) return;
    const live = () => socket === this.#socket && this.#state === 'joined';
    this.#heartbeatTimer = setInterval(() => {
      if (!live()) return;
      const dead = () => {
        if (!live()) return; // the socket went away meanwhile; #dropped has run
        this.#log.warn('no pong from the server; the connection is dead', { heartbeatMs: ms });
        socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null;
        const terminate = (socket as { terminate?: () => void }).terminate;
        try {
          if (typeof terminate === 'function') terminate.call(socket);
          else socket.close(1000, 'heartbeat timeout');
        } catch {
          // already closed
        }
        this.#dropped(socket, 1006, `no pong within ${ms} ms`);
      };
      try {
        this.ping(ms).catch(dead);
      } catch {
        dead(); // not open any more
      }
    }, ms);
    (this.#heartbeatTimer as { unref?: () => void }).unref?.();
  }

  /** The live socket closed without `close()`: rejoin if the policy says so, else finish. */
  #dropped(socket: WebSocketLike, code: number, reason: string): void {
    if (socket !== this.#socket || this.#state !== 'joined') return;
    clearInterval(this.#heartbeatTimer);
    this.#socket = undefined;
    const error = new ConnectionError('closed', `connection closed (${closeText(code, reason)})`);
    this.#log.warn('connection dropped', { code, reason });
    this.#rejectPings(error);
    // A replaced peer must not fight its replacement for the peerId.
    if (!this.#policy || code === CLOSE_CODES.replaced) {
      this.#finish(code, reason, error);
      return;
    }
    this.#state = 'reconnecting';
    this.#retry(1, performance.now(), error, code, reason);
  }

  #retry(attempt: number, droppedAtMs: number, error: ConnectionError, code: number, reason: string): void {
    const delayMs = this.#policy?.nextRetryDelayMs({
      attempt,
      elapsedMs: performance.now() - droppedAtMs,
      error,
    });
    if (delayMs === null || delayMs === undefined || this.#state !== 'reconnecting') {
      this.#finish(code, reason, error);
      return;
    }
    this.#emit({ type: 'reconnecting', attempt, delayMs, error });
    this.#retryTimer = setTimeout(async () => {
      if (this.#state !== 'reconnecting') return;
      try {
        await this.#open(this.#peerId, true).joined;
      } catch (err) {
        if (this.#state !== 'reconnecting') return;
        const next =
          err instanceof ConnectionError ? err : new ConnectionError('closed', String(err), { cause: err });
        this.#retry(attempt + 1, droppedAtMs, next, code, reason);
      }
    }, delayMs);
  }

  #rejectPings(error: Error): void {
    for (const p of this.#pings.values()) p.reject(error);
    this.#pings.clear();
  }

  #finish(code: number, reason: string, error?: ConnectionError): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#retryTimer);
    clearInterval(this.#heartbeatTimer);
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket) {
      socket.onmessage = socket.onclose = socket.onerror = null;
      try {
        socket.close(1000, 'closed by client');
      } catch {
        // already closed
      }
    }
    this.#rejectPings(error ?? new InvalidStateError('client closed'));
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const ev of held) this.#events$.next(ev);
    this.#events$.next({ type: 'closed', code, reason, ...(error ? { error } : {}) });
    this.#events$.complete();
  }
}

/**
 * Connects to a signaling server and joins a room. Resolves once the server has sent `joined`.
 * @throws TypeError on bad options.
 * Rejects with ConnectionError: `unreachable` (no server), `refused` (the server said no; `code` says
 * why, e.g. `token-expired`, `room-full`, `sender-exists`), `timeout`, `closed` or `protocol`.
 */
export async function connectSignaling(options: SignalingClientOptions): Promise<SignalingClient> {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('connectSignaling: options are required');
  if (typeof options.url !== 'string' || !/^wss?:\/\//.test(options.url)) {
    throw new TypeError('connectSignaling: url must start with ws:// or wss://');
  }
  if (typeof options.room !== 'string' || options.room.length === 0) {
    throw new TypeError('connectSignaling: room must be a non-empty string');
  }
  if (options.role !== 'sender' && options.role !== 'receiver') {
    throw new TypeError(`connectSignaling: role must be 'sender' or 'receiver'`);
  }
  if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) {
    throw new TypeError('connectSignaling: timeoutMs must be a positive number of milliseconds');
  }
  if (
    options.heartbeatMs !== undefined &&
    !(Number.isFinite(options.heartbeatMs) && options.heartbeatMs >= 0)
  ) {
    throw new TypeError('connectSignaling: heartbeatMs must be a non-negative number of milliseconds');
  }
  if (options.encoding !== undefined && options.encoding !== 'json' && options.encoding !== 'msgpack') {
    throw new TypeError(`connectSignaling: encoding must be 'json' or 'msgpack'`);
  }
  const client = new Client(options, options.WebSocket ?? (await defaultWebSocket()));
  await client.connect();
  return client;
}
