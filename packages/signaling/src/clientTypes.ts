import type { Observable } from 'rxjs';
import type { Encoding } from './codec.js';
import type { ConnectionError } from './errors.js';
import type { Logger } from './logger.js';
import type { PeerSummary, Role, RoomInfo, SignalData } from './protocol.js';
import type { ReconnectPolicy } from './reconnect.js';

/** What the client needs of a WebSocket: the browser's native one and `ws` both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType: string;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/** A WebSocket class: `globalThis.WebSocket`, `ws`'s `WebSocket`, or a test double. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Options of `connectSignaling`. */
export interface SignalingClientOptions {
  /** Server URL, `ws://host:port[/path]`. */
  url: string;
  /** Room to join. */
  room: string;
  /** Role in the room. */
  role: Role;
  /** Room token, when the server has a secret. */
  token?: string;
  /** Peer id to ask for (a rejoin); default: the server assigns one. */
  peerId?: string;
  /** How long to wait for `joined`, in milliseconds. Default 10 000. */
  timeoutMs?: number;
  /** Wire encoding. Default `json`. */
  encoding?: Encoding;
  /** WebSocket class. Default `globalThis.WebSocket` when there is one, else `ws`. */
  WebSocket?: WebSocketConstructor;
  /**
   * Rejoin (same peerId) when the connection drops after it has joined: `true` for the default
   * exponential backoff, or a policy. Default `false`.
   */
  reconnect?: boolean | ReconnectPolicy;
  /**
   * Ping the server this often, in milliseconds; when a pong has not come back by the next ping, the connection
   * is treated as dead: closed, and rejoined when `reconnect` allows. A TCP connection whose path broke (the
   * host's address changed, a NAT forgot it) stays open for minutes otherwise. Default 0: no heartbeat.
   */
  heartbeatMs?: number;
  /** Where the client logs. Default: silent. */
  logger?: Logger;
}

/** Everything a client hears, one typed stream. */
export type SignalingClientEvent =
  /** A peer this client can see joined (a receiver sees only the sender; the sender sees everyone). */
  | { type: 'peer-joined'; peerId: string; role: Role }
  | { type: 'peer-left'; peerId: string; role: Role; reason: string }
  | { type: 'signal'; from: string; data: SignalData }
  | { type: 'room-info'; info: RoomInfo }
  /** The server rejected one of this client's messages; the connection stays up. */
  | { type: 'error'; code: string; message: string; ref?: string }
  /** The connection dropped; a rejoin follows after `delayMs`. */
  | { type: 'reconnecting'; attempt: number; delayMs: number; error: ConnectionError }
  /** Rejoined with the same peerId; `peers` is the room as it is now. */
  | { type: 'reconnected'; peers: PeerSummary[] }
  /** The last event: the client is closed (by `close()`, the server, or a failed reconnect). */
  | { type: 'closed'; code: number; reason: string; error?: ConnectionError };

/** Lifecycle of a client. */
export type SignalingClientState = 'joined' | 'reconnecting' | 'closed';

/** A joined signaling client. */
export interface SignalingClient {
  /** This peer's id in the room. */
  readonly peerId: string;
  readonly room: string;
  readonly role: Role;
  /** Peers this client can see, as of now. */
  readonly peers: readonly PeerSummary[];
  /** The sender's room metadata, when set. */
  readonly roomInfo: RoomInfo | undefined;
  readonly state: SignalingClientState;
  /**
   * Events. Those that arrive together with `joined` are delivered on the next macrotask, so a caller
   * that subscribes right after `await connectSignaling()` misses none. Completes after `closed`.
   */
  readonly events$: Observable<SignalingClientEvent>;
  /**
   * Sends negotiation data to one peer.
   * @throws TypeError on a bad `to` or `data`; InvalidStateError unless joined.
   */
  signal(to: string, data: SignalData): void;
  /**
   * Sets the room metadata (sender only); receivers get it now and on join.
   * @throws TypeError when `info` is not a plain object; InvalidStateError unless joined.
   */
  setRoomInfo(info: RoomInfo): void;
  /**
   * Round trip to the server, in milliseconds.
   * @throws InvalidStateError unless joined; rejects with ConnectionError('timeout') after `timeoutMs` (default 5000).
   */
  ping(timeoutMs?: number): Promise<number>;
  /** Leaves the room and closes the connection. Idempotent. */
  close(): void;
}
